// The release of accord, and nothing else: the two programs print it (`--version`), and accordd
// hands it to the daemon, which reports it in GetInfo and Status. Kept out of the libraries so
// that a release changes one line and rebuilds only what prints it; debian/changelog names the
// same version.

/// The release of accord.
public let accordVersion = "0.1.0"
