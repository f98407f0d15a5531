// Parses TOML with toml++ (Debian's libtomlplusplus-dev, used header-only) and flattens the
// document into accord_toml_node records, breadth first, so that every table's and array's
// children are contiguous. toml++'s own tree is freed before this returns.
// toml++ asserts on some malformed TOML (a header "[*", found by Fuzz/FuzzPortfolio) instead of
// reporting a parse error: its assertions are compiled out here, whatever the build's flags, so
// that a bad portfolio is an error, never a crash (Tests/e2e/test_hostile.py).
#define TOML_ASSERT(expr) static_cast<void>(0)
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#define TOML_ENABLE_FORMATTERS 0
#include <toml++/toml.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "accord_toml.h"

namespace {

struct Flattener {
    std::vector<accord_toml_node> nodes;
    std::vector<const toml::node *> sources;
    std::string strings;

    uint32_t store(std::string_view text) {
        auto offset = static_cast<uint32_t>(strings.size());
        strings.append(text.data(), text.size());
        return offset;
    }

    void append(const toml::node &value, std::string_view key) {
        accord_toml_node node{};
        node.line = value.source().begin.line;
        node.key = store(key);
        node.key_length = static_cast<uint32_t>(key.size());
        switch (value.type()) {
        case toml::node_type::table: node.type = ACCORD_TOML_TABLE; break;
        case toml::node_type::array: node.type = ACCORD_TOML_ARRAY; break;
        case toml::node_type::string: {
            node.type = ACCORD_TOML_STRING;
            const std::string &text = value.as_string()->get();
            node.first = store(text);
            node.count = static_cast<uint32_t>(text.size());
            break;
        }
        case toml::node_type::integer:
            node.type = ACCORD_TOML_INTEGER;
            node.integer = value.as_integer()->get();
            break;
        case toml::node_type::floating_point:
            node.type = ACCORD_TOML_FLOAT;
            node.number = value.as_floating_point()->get();
            break;
        case toml::node_type::boolean:
            node.type = ACCORD_TOML_BOOLEAN;
            node.integer = value.as_boolean()->get() ? 1 : 0;
            break;
        case toml::node_type::date: {
            node.type = ACCORD_TOML_DATE;
            const toml::date &date = value.as_date()->get();
            node.year = date.year; node.month = date.month; node.day = date.day;
            break;
        }
        case toml::node_type::time: {
            node.type = ACCORD_TOML_TIME;
            const toml::time &time = value.as_time()->get();
            node.hour = time.hour; node.minute = time.minute; node.second = time.second;
            node.nanosecond = time.nanosecond;
            break;
        }
        case toml::node_type::date_time: {
            node.type = ACCORD_TOML_DATE_TIME;
            const toml::date_time &stamp = value.as_date_time()->get();
            node.year = stamp.date.year; node.month = stamp.date.month; node.day = stamp.date.day;
            node.hour = stamp.time.hour; node.minute = stamp.time.minute; node.second = stamp.time.second;
            node.nanosecond = stamp.time.nanosecond;
            if (stamp.offset) {
                node.has_offset = 1;
                node.offset_minutes = stamp.offset->minutes;
            }
            break;
        }
        default: node.type = ACCORD_TOML_STRING; break;
        }
        nodes.push_back(node);
        sources.push_back(&value);
    }

    void run(const toml::table &root) {
        accord_toml_node top{};
        top.type = ACCORD_TOML_TABLE;
        top.line = 1;
        nodes.push_back(top);
        sources.push_back(&root);
        // Breadth first: the nodes appended while expanding node i come after every node
        // already there, so each container's children land next to each other.
        for (size_t index = 0; index < nodes.size(); index++) {
            const toml::node *source = sources[index];
            auto first = static_cast<uint32_t>(nodes.size());
            if (nodes[index].type == ACCORD_TOML_TABLE) {
                for (auto &&[key, value] : *source->as_table()) append(value, key.str());
            } else if (nodes[index].type == ACCORD_TOML_ARRAY) {
                for (const toml::node &value : *source->as_array()) append(value, std::string_view());
            } else {
                continue;
            }
            nodes[index].first = first;
            nodes[index].count = static_cast<uint32_t>(nodes.size()) - first;
        }
    }
};

template <typename T> T *copied(const std::vector<T> &values) {
    T *memory = static_cast<T *>(std::malloc(values.empty() ? 1 : values.size() * sizeof(T)));
    if (memory && !values.empty()) std::memcpy(memory, values.data(), values.size() * sizeof(T));
    return memory;
}

}  // namespace

extern "C" accord_toml_document *accord_toml_parse(const char *text, size_t length) {
    auto *document = static_cast<accord_toml_document *>(std::calloc(1, sizeof(accord_toml_document)));
    if (!document) std::abort();
    toml::parse_result result = toml::parse(std::string_view(text, length));
    if (!result) {
        const toml::parse_error &error = result.error();
        std::string description(error.description());
        document->failed = 1;
        document->error = strdup(description.c_str());
        document->error_line = error.source().begin.line;
        document->error_column = error.source().begin.column;
        return document;
    }
    Flattener flattener;
    flattener.run(result.table());
    document->node_count = flattener.nodes.size();
    document->nodes = copied(flattener.nodes);
    document->strings_length = flattener.strings.size();
    document->strings = static_cast<char *>(std::malloc(flattener.strings.size() + 1));
    if (!document->nodes || !document->strings) std::abort();
    std::memcpy(document->strings, flattener.strings.data(), flattener.strings.size());
    return document;
}

extern "C" void accord_toml_free(accord_toml_document *document) {
    if (!document) return;
    std::free(document->nodes);
    std::free(document->strings);
    std::free(document->error);
    std::free(document);
}
