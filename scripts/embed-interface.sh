#!/bin/bash
# Re-embeds Sources/AccordProtocol/io.accord.Tracker.varlink into Interfaces.swift, so the
# daemon serves the IDL without reading files at run time.
set -euo pipefail
cd "$(dirname "$0")/../Sources/AccordProtocol"
python3 - <<'PY'
import re
idl = open("io.accord.Tracker.varlink").read()
swift = open("Interfaces.swift").read()
start = swift.index('public static let description = #"""\n') + len('public static let description = #"""\n')
end = swift.index('"""#', start)
# Indented as swift-format lays out a multi-line literal; Swift strips the closing delimiter's
# indentation from every line, so the served text is the file byte for byte.
indented = "".join("        " + line if line.strip() else line for line in (idl + "\n").splitlines(True))
open("Interfaces.swift", "w").write(swift[:start] + indented + "        " + swift[end:])
PY
