// A TOML document as one flat array of nodes, parsed by toml++ and handed to Swift as plain C
// data: no wrapper object per value, and the whole document freed by one call. See
// Sources/AccordTOML/TOMLDocument.swift for why accord reads TOML this way.
#ifndef ACCORD_TOML_H
#define ACCORD_TOML_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum accord_toml_type {
    ACCORD_TOML_TABLE = 0,
    ACCORD_TOML_ARRAY = 1,
    ACCORD_TOML_STRING = 2,
    ACCORD_TOML_INTEGER = 3,
    ACCORD_TOML_FLOAT = 4,
    ACCORD_TOML_BOOLEAN = 5,
    ACCORD_TOML_DATE = 6,
    ACCORD_TOML_TIME = 7,
    ACCORD_TOML_DATE_TIME = 8,
};

/// One value. A table's or an array's children are the nodes [first, first + count), in the
/// document's order for arrays and in key order for tables; node 0 is the root table.
typedef struct accord_toml_node {
    uint8_t type;
    /// A date-time with an offset (`offset_minutes` is then meaningful).
    uint8_t has_offset;
    uint8_t month, day, hour, minute, second;
    int16_t offset_minutes;
    uint16_t year;
    /// The line where the value is written (1-based; 0 when toml++ did not say).
    uint32_t line;
    /// A table member's key, in `strings`.
    uint32_t key, key_length;
    /// A string's bytes in `strings`; a table's or an array's children.
    uint32_t first, count;
    uint32_t nanosecond;
    /// An integer, or a boolean as 0 or 1.
    int64_t integer;
    double number;
} accord_toml_node;

typedef struct accord_toml_document {
    accord_toml_node *nodes;
    size_t node_count;
    /// Keys and strings, each stored once per occurrence, not NUL-terminated.
    char *strings;
    size_t strings_length;
    /// Non-zero when the text is not TOML: `error` says why, at `error_line`:`error_column`.
    int failed;
    char *error;
    uint32_t error_line, error_column;
} accord_toml_document;

/// Parses `length` bytes of UTF-8. Never NULL; free it with accord_toml_free.
accord_toml_document *accord_toml_parse(const char *text, size_t length);
void accord_toml_free(accord_toml_document *document);

#ifdef __cplusplus
}
#endif
#endif
