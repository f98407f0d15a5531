# accord: build, test and install.
#
#   make                      debug build (swift build)
#   make release              release build, Swift runtime linked statically
#   make install              release build, then install under PREFIX (default /usr/local)
#   make install PREFIX=/usr  units in /usr/lib/systemd/system, and so on
#   make install DESTDIR=/tmp/stage   stage for a package; nothing runs on this machine
#   make deb                  accord_VERSION_amd64.deb with Debian's tools (scripts/build-deb.sh)
#   make uninstall            remove what install put there (not /etc/accord, not /var/lib/accord)
#   make check                debug build and unit tests only (swift test): the quick loop
#   make test                 every test: scripts/test.sh (what .ci/run runs)
#   make lint                 swift-format lint, unit files, man pages, shellcheck: all must be clean
#   make format               swift format in place over Sources Tests Benchmarks Fuzz (.swift-format)
#   make run | bench | fuzz | chaos | lint-units | lint-man | e2e-systemd
#   make failover ROUNDS=20   two daemons on one PostgreSQL database, a fault per round; takeover p50/max
#   make chaos STATE=postgresql   the chaos test with the state in PostgreSQL
#
# Where things go (DESTDIR is prefixed to every path):
#   $(PREFIX)/bin/accordd, accordctl
#   $(PREFIX)/lib/systemd/system/accordd.service, accordd.socket
#       (/usr/local/lib/systemd/system and /usr/lib/systemd/system are both on systemd's
#       unit search path, so PREFIX=/usr/local works as well as PREFIX=/usr; so are
#       /usr/local/lib/{sysusers.d,tmpfiles.d,systemd/catalog} for systemd-sysusers,
#       systemd-tmpfiles and journalctl --update-catalog. Local administrators' own units
#       belong in /etc/systemd/system, which is never written here.)
#   $(PREFIX)/lib/sysusers.d/accord.conf, $(PREFIX)/lib/tmpfiles.d/accord.conf (if shipped:
#       no systemd/accord.tmpfiles exists today, because nothing needs one: systemd makes
#       /var/lib/accord (StateDirectory=) and /run/accord (RuntimeDirectory=, and the socket
#       unit's DirectoryMode=) with the right owner and mode, and install makes /etc/accord)
#   $(PREFIX)/lib/systemd/catalog/accord.catalog
#   $(PREFIX)/share/man/man{1,5,8}/...
#   $(PREFIX)/share/bash-completion/completions/accordctl,
#   $(PREFIX)/share/zsh/site-functions/_accordctl,
#   $(PREFIX)/share/fish/vendor_completions.d/accordctl.fish
#   $(PREFIX)/share/accord/hooks/mail-reminder (an example notify hook; nothing enables it)
#   $(SYSCONFDIR)/accord/accordd.toml, portfolios/*.toml and calendars/*.toml (if any):
#       never overwritten
#
# BUILDDIR names the binaries to install (default .build/release, built first). Any other
# BUILDDIR is installed as it is, without building: make install BUILDDIR=.build/debug

PREFIX     ?= /usr/local
DESTDIR    ?=
SYSCONFDIR ?= /etc
BUILDDIR   ?= .build/release
SWIFT      ?= $(shell command -v swift 2>/dev/null || echo /opt/swift/usr/bin/swift)

bindir      = $(PREFIX)/bin
unitdir     = $(PREFIX)/lib/systemd/system
sysusersdir = $(PREFIX)/lib/sysusers.d
tmpfilesdir = $(PREFIX)/lib/tmpfiles.d
catalogdir  = $(PREFIX)/lib/systemd/catalog
mandir      = $(PREFIX)/share/man
bashcompdir = $(PREFIX)/share/bash-completion/completions
zshcompdir  = $(PREFIX)/share/zsh/site-functions
fishcompdir = $(PREFIX)/share/fish/vendor_completions.d
hookdir     = $(PREFIX)/share/accord/hooks
confdir     = $(SYSCONFDIR)/accord

BINARIES   = accordd accordctl
UNITS      = accordd.service accordd.socket
MANPAGES   = man/accordctl.1 man/accord.toml.5 man/accordd.8
TMPFILES   = $(wildcard systemd/accord.tmpfiles)
PORTFOLIOS = $(wildcard Config/portfolios/*.toml)
CALENDARS  = $(wildcard Config/calendars/*.toml)

INSTALL      ?= install
INSTALL_DATA  = $(INSTALL) -m 0644

# Every file install writes, relative to DESTDIR; uninstall removes exactly these.
INSTALLED = $(addprefix $(bindir)/,$(BINARIES)) \
            $(addprefix $(unitdir)/,$(UNITS)) \
            $(sysusersdir)/accord.conf \
            $(if $(TMPFILES),$(tmpfilesdir)/accord.conf) \
            $(catalogdir)/accord.catalog \
            $(mandir)/man1/accordctl.1 $(mandir)/man5/accord.toml.5 $(mandir)/man8/accordd.8 \
            $(bashcompdir)/accordctl $(zshcompdir)/_accordctl $(fishcompdir)/accordctl.fish \
            $(hookdir)/mail-reminder

.PHONY: all build release install uninstall check test run bench fuzz chaos failover sanitizers \
        format lint lint-swift lint-units lint-man lint-shell e2e-systemd deb e2e-deb

all: build

# toml++ asserts on some malformed TOML instead of reporting an error: Sources/CAccordTOML
# compiles its assertions out, and every C++ file is built without assertions as well.
SWIFTFLAGS ?= -Xcxx -DNDEBUG

build:
	$(SWIFT) build $(SWIFTFLAGS)

release:
	$(SWIFT) build -c release --static-swift-stdlib $(SWIFTFLAGS)

# Build first only when installing the default release build.
install: $(if $(filter .build/release,$(BUILDDIR)),release)
	@for b in $(BINARIES); do test -x "$(BUILDDIR)/$$b" || { echo "make install: $(BUILDDIR)/$$b is missing: run make release" >&2; exit 1; }; done
	$(INSTALL) -d "$(DESTDIR)$(bindir)" "$(DESTDIR)$(unitdir)" "$(DESTDIR)$(sysusersdir)" \
	    "$(DESTDIR)$(catalogdir)" "$(DESTDIR)$(mandir)/man1" "$(DESTDIR)$(mandir)/man5" \
	    "$(DESTDIR)$(mandir)/man8" "$(DESTDIR)$(bashcompdir)" "$(DESTDIR)$(zshcompdir)" \
	    "$(DESTDIR)$(fishcompdir)" "$(DESTDIR)$(hookdir)"
	$(INSTALL) -m 0755 $(addprefix $(BUILDDIR)/,$(BINARIES)) "$(DESTDIR)$(bindir)/"
	$(INSTALL) -m 0755 Config/hooks/mail-reminder "$(DESTDIR)$(hookdir)/mail-reminder"
	sed 's|@BINDIR@|$(bindir)|g' systemd/accordd.service >"$(DESTDIR)$(unitdir)/accordd.service"
	chmod 0644 "$(DESTDIR)$(unitdir)/accordd.service"
	$(INSTALL_DATA) systemd/accordd.socket "$(DESTDIR)$(unitdir)/accordd.socket"
	$(INSTALL_DATA) systemd/accord.sysusers "$(DESTDIR)$(sysusersdir)/accord.conf"
ifneq ($(TMPFILES),)
	$(INSTALL) -d "$(DESTDIR)$(tmpfilesdir)"
	$(INSTALL_DATA) $(TMPFILES) "$(DESTDIR)$(tmpfilesdir)/accord.conf"
endif
	$(INSTALL_DATA) systemd/accord.catalog "$(DESTDIR)$(catalogdir)/accord.catalog"
	$(INSTALL_DATA) man/accordctl.1 "$(DESTDIR)$(mandir)/man1/accordctl.1"
	$(INSTALL_DATA) man/accord.toml.5 "$(DESTDIR)$(mandir)/man5/accord.toml.5"
	$(INSTALL_DATA) man/accordd.8 "$(DESTDIR)$(mandir)/man8/accordd.8"
	"$(BUILDDIR)/accordctl" --generate-completion-script bash >"$(DESTDIR)$(bashcompdir)/accordctl"
	"$(BUILDDIR)/accordctl" --generate-completion-script zsh >"$(DESTDIR)$(zshcompdir)/_accordctl"
	"$(BUILDDIR)/accordctl" --generate-completion-script fish >"$(DESTDIR)$(fishcompdir)/accordctl.fish"
	chmod 0644 "$(DESTDIR)$(bashcompdir)/accordctl" "$(DESTDIR)$(zshcompdir)/_accordctl" \
	    "$(DESTDIR)$(fishcompdir)/accordctl.fish"
	$(INSTALL) -d -m 0755 "$(DESTDIR)$(confdir)" "$(DESTDIR)$(confdir)/portfolios" \
	    $(if $(CALENDARS),"$(DESTDIR)$(confdir)/calendars")
	@for f in Config/accordd.toml $(PORTFOLIOS) $(CALENDARS); do \
	    dest="$(DESTDIR)$(confdir)/$${f#Config/}"; \
	    if [ -e "$$dest" ]; then echo "keeping $$dest (it exists; the shipped one is $$f)"; \
	    else echo "$(INSTALL_DATA) $$f $$dest"; $(INSTALL_DATA) "$$f" "$$dest" || exit 1; fi; \
	done
	@if [ -z "$(DESTDIR)" ]; then \
	    echo "journalctl --update-catalog"; journalctl --update-catalog || exit 1; \
	    if command -v systemd-sysusers >/dev/null; then \
	        echo "systemd-sysusers $(sysusersdir)/accord.conf"; systemd-sysusers "$(sysusersdir)/accord.conf" || exit 1; fi; \
	    if [ -d /run/systemd/system ]; then echo "systemctl daemon-reload"; systemctl daemon-reload; fi; \
	    echo; echo "Installed. Next: add people to the groups accord (read) and accord-admin (write),"; \
	    echo "check $(confdir)/accordd.toml, then: systemctl enable --now accordd.socket accordd.service"; \
	fi

uninstall:
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
	    echo "systemctl disable --now accordd.service accordd.socket"; \
	    systemctl disable --now accordd.service accordd.socket || true; fi
	rm -f $(addprefix "$(DESTDIR),$(addsuffix ",$(INSTALLED)))
	@if [ -z "$(DESTDIR)" ]; then \
	    echo "journalctl --update-catalog"; journalctl --update-catalog || true; \
	    if [ -d /run/systemd/system ]; then echo "systemctl daemon-reload"; systemctl daemon-reload; fi; \
	    echo "Left alone: $(confdir) (configuration), /var/lib/accord (state), the user and groups accord."; \
	fi

# The quick loop while working: a debug build with the tests, then the unit tests; no journald,
# no containers, no fuzzing. Measured warm on 2 cores: 10 s with nothing changed, 24 s after a
# change to a public declaration of AccordCore (every module above it recompiles); 183 tests.
check:
	$(SWIFT) build $(SWIFTFLAGS) --build-tests
	$(SWIFT) test $(SWIFTFLAGS) --skip-build

test:
	./scripts/test.sh

run:
	./scripts/run.sh

bench:
	./scripts/bench.sh

fuzz:
	./scripts/fuzz.sh

chaos:
	./scripts/chaos.sh

failover:
	./scripts/failover.sh

# The Swift sources swift-format looks after; its settings are in .swift-format.
SWIFT_SOURCES = Sources Tests Benchmarks Fuzz

# Rewrites the sources in place to .swift-format's layout (line length 150, 4-space indent,
# ordered imports). Rules that are off there are off because the code is written another way
# on purpose: several short assignments on a line (DoNotUseSemicolons), `var a = 0, b = 0`
# (OneVariableDeclarationPerLine), `case a, b` (OneCasePerLine), line-number comments
# `/* 12 */` in test tables (NoBlockComments), no trailing comma after the last element of a
# multi-line literal (multiElementCollectionTrailingCommas), arguments wrapped only where the
# line is full (lineBreakBeforeEachArgument).
format:
	$(SWIFT) format -i -r -p $(SWIFT_SOURCES)

# Every linter, each run even when one before it failed; the exit status is non-zero when any
# reported anything. LINT_SWIFT_FORMAT=no leaves swift-format out (scripts/test.sh uses it
# until the sources have been through make format once).
LINT_SWIFT_FORMAT ?= yes
LINTS = $(if $(filter yes,$(LINT_SWIFT_FORMAT)),lint-swift) lint-units lint-man lint-shell
lint:
	@failed=; for lint in $(LINTS); do \
	    echo "== make $$lint"; $(MAKE) --no-print-directory $$lint || failed="$$failed $$lint"; \
	done; \
	$(if $(filter yes,$(LINT_SWIFT_FORMAT)),,echo "make lint: lint-swift skipped (LINT_SWIFT_FORMAT=$(LINT_SWIFT_FORMAT))";) \
	if [ -n "$$failed" ]; then echo "make lint: failed:$$failed" >&2; exit 1; fi; echo "make lint: clean"

# swift-format's findings are errors (--strict): any finding fails.
lint-swift:
	$(SWIFT) format lint --strict -r -p $(SWIFT_SOURCES)

# Every shell script, with the shell its #! line names.
lint-shell:
	shellcheck scripts/*.sh .ci/run

# systemd-analyze verify and security --offline=true on the shipped units (no PID 1 needed).
lint-units:
	./scripts/lint-units.sh

# mandoc -T lint and man --warnings on every man page.
lint-man:
	./scripts/lint-man.sh $(MANPAGES)

# The booted-systemd end-to-end test (root; systemd-nspawn): E2E_BINDIR holds accordd and accordctl.
E2E_BINDIR ?= .build/debug
e2e-systemd:
	./scripts/e2e-systemd.sh $(E2E_BINDIR)

sanitizers:
	./scripts/sanitizers.sh

# The Debian package, built by dpkg-buildpackage from a copy of the tracked files in
# .build/deb/src (kept, so a second build is incremental); lintian-checked; copied here.
deb:
	./scripts/build-deb.sh

# Install, upgrade and purge the package in a booted Debian 12 container (root).
e2e-deb:
	./scripts/e2e-deb.sh
