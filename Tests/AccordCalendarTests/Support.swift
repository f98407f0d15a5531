import AccordCalendar

// Small helpers for the calendar tests: they only turn text into values.

func instant(_ text: String) -> Instant { try! Instant(parsingRFC3339: text) }
func day(_ text: String) -> CivilDate { try! CivilDate(parsing: text) }
func duration(_ text: String) -> ISODuration { try! ISODuration(parsing: text) }
func zone(_ name: String) -> Zone { try! Zone.named(name) }
func wall(_ date: String, _ time: String) -> LocalDateTime {
    LocalDateTime(date: day(date), time: try! LocalTime(parsing: time))
}
