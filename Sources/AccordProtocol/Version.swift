/// The release of accord: served by GetInfo and Status, printed by `--version` of both programs.
public let accordVersion = "0.1.0"
