import Testing

@testable import AccordProtocol

private func decode(_ text: String) throws(VarlinkError) -> VarlinkCall { try VarlinkCall.decode(Array(text.utf8)) }

private let invalidRequest = "io.accord.Tracker.InvalidRequest"
private let invalidParameter = "org.varlink.service.InvalidParameter"

@Suite struct CallDecodingTests {
    @Test func decodesEveryField() throws {
        let call = try decode(#"{"method":"io.accord.Tracker.Record","parameters":{"id":"x","on":null},"more":false,"oneway":true,"upgrade":false}"#)
        #expect(call == VarlinkCall(method: "io.accord.Tracker.Record", parameters: ["id": "x", "on": nil], oneway: true))
        #expect(call.splitMethod.interface == "io.accord.Tracker" && call.splitMethod.method == "Record")
        let watch = try decode(#"{"more":true,"method":"io.accord.Tracker.Watch"}"#)
        #expect(watch.more && !watch.oneway && !watch.upgrade && watch.parameters.isEmpty)
        #expect(try decode(#"{"method":"a.b.C","upgrade":true}"#).upgrade)
    }

    @Test func nullMeansAbsent() throws {
        let call = try decode(#"{"method":"org.varlink.service.GetInfo","parameters":null,"oneway":null,"more":null,"upgrade":null}"#)
        #expect(call == VarlinkCall(method: "org.varlink.service.GetInfo"))
    }

    @Test(arguments: [
        "org.varlink.service.GetInfo", "io.accord.Tracker.Status", "a.b.C", "io.accord-x.T1.M2", "xn--ls8h.example.M",
        "IO.Accord.Tracker.Show", "a.b-c--d.E9"
    ])
    func acceptsMethodNamesOfTheVarlinkGrammar(_ method: String) throws {
        #expect(try decode(#"{"method":"\#(method)"}"#).method == method)
    }

    @Test(arguments: [
        "", "Status", "io.Status", "io.accord.Tracker.status", "io.accord.Tracker.", "io.Tracker.", ".io.accord.Tracker.Status",
        "io..accord.Tracker.Status", "io.accord-.Tracker.Status", "io.-accord.Tracker.Status", "-io.accord.Tracker.Status",
        "1io.accord.Tracker.Status", "io.accord.Tracker.Sta tus", "io.accord.Tracker.Sta_tus", "io.accord.Tracker.Sta-tus",
        "io.accord.Tracker.Stätus", "io.accörd.Tracker.Status", "io.accord.Tracker.Status ", "io/accord.Tracker.Status",
        "io.accord.Tracker.S\\u0000", "a.b." + String(repeating: "M", count: 252)
    ])
    func refusesMalformedMethodNames(_ method: String) {
        let error = #expect(throws: VarlinkError.self) { try decode(#"{"method":"\#(method)"}"#) }
        #expect(error?.name == invalidRequest)
        #expect(error?.parameters["reason"]?.stringValue?.contains("is not INTERFACE.Method") == true)
    }

    @Test func acceptsTheLongestMethodName() throws {
        let method = "a.b." + String(repeating: "M", count: 251)
        #expect(try decode(#"{"method":"\#(method)"}"#).method.utf8.count == 255)
    }

    @Test(arguments: [
        ("", invalidRequest, "not valid JSON"),
        ("{", invalidRequest, "not valid JSON"),
        (#"{"method":"a.b.C"} x"#, invalidRequest, "not valid JSON"),
        ("{\"method\":\"a.b.C\",\"parameters\":{\"id\":\"\u{01}\"}}", invalidRequest, "control character"),
        (#"{"method":"a.b.C","parameters":{"id":"\ud800"}}"#, invalidRequest, "surrogate"),
        (#"{"method":"a.b.C","parameters":{"n":1e999}}"#, invalidRequest, "out of range"),
        (#"{"method":"a.b.C","method":"a.b.D"}"#, invalidRequest, "duplicate key"),
        (String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000), invalidRequest, "nesting"),
        (#"[{"method":"a.b.C"}]"#, invalidRequest, "must be a JSON object"),
        (#""a.b.C""#, invalidRequest, "must be a JSON object"),
        ("null", invalidRequest, "must be a JSON object"),
        ("{}", invalidRequest, "no \"method\""),
        (#"{"parameters":{}}"#, invalidRequest, "no \"method\""),
        (#"{"method":null}"#, invalidRequest, "no \"method\""),
        (#"{"method":1}"#, invalidRequest, "no \"method\""),
        (#"{"method":["a.b.C"]}"#, invalidRequest, "no \"method\""),
        (#"{"method":"a.b.C","parameters":[]}"#, invalidParameter, ""),
        (#"{"method":"a.b.C","parameters":"x"}"#, invalidParameter, ""),
        (#"{"method":"a.b.C","parameters":1}"#, invalidParameter, ""),
        (#"{"method":"a.b.C","parameters":true}"#, invalidParameter, ""),
        (#"{"method":"a.b.C","oneway":1}"#, invalidRequest, "\"oneway\" must be a boolean"),
        (#"{"method":"a.b.C","more":"yes"}"#, invalidRequest, "\"more\" must be a boolean"),
        (#"{"method":"a.b.C","upgrade":{}}"#, invalidRequest, "\"upgrade\" must be a boolean"),
        (#"{"method":"a.b.C","oneway":true,"more":true}"#, invalidRequest, "cannot be combined"),
        (#"{"method":"a.b.C","sudo":true}"#, invalidRequest, "unknown key \"sudo\""),
        (#"{"method":"a.b.C","Method":"a.b.D"}"#, invalidRequest, "unknown key \"Method\"")
    ])
    func refusesBadCallsWithTheErrorThatApplies(_ text: String, _ name: String, _ reason: String) {
        let error = #expect(throws: VarlinkError.self) { try decode(text) }
        #expect(error?.name == name)
        if name == invalidParameter {
            #expect(error?.parameters == ["parameter": "parameters"])
        } else {
            #expect(error?.parameters["reason"]?.stringValue?.contains(reason) == true, "\(String(describing: error))")
        }
    }

    @Test func invalidUTF8IsAnInvalidRequest() {
        let bytes = Array(#"{"method":"a.b.C","parameters":{"id":""#.utf8) + [0xC0, 0xAF] + Array(#""}}"#.utf8)
        let error = #expect(throws: VarlinkError.self) { try VarlinkCall.decode(bytes) }
        #expect(error?.name == invalidRequest)
        #expect(error?.parameters["reason"]?.stringValue?.contains("invalid UTF-8") == true)
    }

    @Test func encodingEndsInNULAndDecodesToTheSameCall() throws {
        let calls = [
            VarlinkCall(method: "io.accord.Tracker.Status"),
            VarlinkCall(method: "io.accord.Tracker.Record", parameters: ["id": "x\u{0}y", "note": "a\nb"], oneway: true),
            VarlinkCall(method: "io.accord.Tracker.Watch", more: true),
            VarlinkCall(method: "a.b.C", upgrade: true)
        ]
        for call in calls {
            let bytes = call.encode()
            #expect(bytes.last == 0 && bytes.dropLast().allSatisfy { $0 != 0 })
            #expect(try VarlinkCall.decode(Array(bytes.dropLast())) == call)
        }
        #expect(String(decoding: calls[2].encode().dropLast(), as: UTF8.self) == #"{"method":"io.accord.Tracker.Watch","more":true}"#)
    }
}

@Suite struct ReplyTests {
    @Test func encodesExactlyAndEndsInNUL() {
        #expect(VarlinkReply().encode() == Array(#"{"parameters":{}}"#.utf8) + [0])
        let streamed = VarlinkReply(parameters: ["reminder": .object(["key": "k\u{0}"])], continues: true)
        #expect(streamed.encode() == Array(#"{"parameters":{"reminder":{"key":"k\u0000"}},"continues":true}"#.utf8) + [0])
        let error = VarlinkReply(VarlinkError("io.accord.Tracker.NoSuchItem", ["id": "x"]))
        #expect(error.encode() == Array(#"{"error":"io.accord.Tracker.NoSuchItem","parameters":{"id":"x"}}"#.utf8) + [0])
        #expect(
            VarlinkReply(error: "org.varlink.service.ExpectedMore").encode()
                == Array(#"{"error":"org.varlink.service.ExpectedMore","parameters":{}}"#.utf8) + [0])
    }

    @Test func decodesWhatItEncodes() throws {
        for reply in [
            VarlinkReply(), VarlinkReply(parameters: ["a": .array([1, 2])], continues: true),
            VarlinkReply(error: "io.accord.Tracker.AmbiguousItem", parameters: ["candidates": .array(["a", "b"])])
        ] {
            #expect(try VarlinkReply.decode(Array(reply.encode().dropLast())) == reply)
        }
        #expect(try VarlinkReply.decode(Array(#"{}"#.utf8)) == VarlinkReply())
        #expect(try VarlinkReply.decode(Array(#"{"parameters":null,"continues":null,"error":null}"#.utf8)) == VarlinkReply())
    }

    @Test(arguments: [
        "[]", "1", #"{"parameters":[]}"#, #"{"continues":"yes"}"#, #"{"error":5}"#, #"{"parameters":{},"extra":1}"#, "{"
    ])
    func decodingRefusesWhatIsNotAReply(_ text: String) {
        #expect(throws: VarlinkError.self) { try VarlinkReply.decode(Array(text.utf8)) }
    }
}

@Suite struct StandardErrorTests {
    @Test func helpersNameTheStandardErrors() {
        #expect(VarlinkError.invalidParameter("id") == VarlinkError("org.varlink.service.InvalidParameter", ["parameter": "id"]))
        #expect(VarlinkError.interfaceNotFound("x.y") == VarlinkError("org.varlink.service.InterfaceNotFound", ["interface": "x.y"]))
        #expect(VarlinkError.methodNotFound("x.y.Z") == VarlinkError("org.varlink.service.MethodNotFound", ["method": "x.y.Z"]))
        #expect(VarlinkError.expectedMore == VarlinkError("org.varlink.service.ExpectedMore"))
        #expect(VarlinkError.invalidRequest("why") == VarlinkError("io.accord.Tracker.InvalidRequest", ["reason": "why"]))
        #expect(VarlinkError.expectedMore.description == "org.varlink.service.ExpectedMore")
        #expect(VarlinkError.invalidParameter("id").description == #"org.varlink.service.InvalidParameter {"parameter":"id"}"#)
    }

    @Test func everyHelperNamesAnErrorOfItsInterface() {
        for error in [VarlinkError.invalidParameter("p"), .interfaceNotFound("i"), .methodNotFound("m"), .expectedMore] {
            let member = String(error.name.split(separator: ".").last!)
            #expect(VarlinkServiceInterface.description.contains("error \(member) ("), "\(error.name)")
        }
        #expect(TrackerInterface.description.contains("error InvalidRequest (reason: string)"))
    }
}

@Suite struct ParameterAccessTests {
    let parameters: JSONObject = ["id": "alpha", "count": 5, "ratio": .double(5), "flag": true, "none": nil, "text": "5"]

    /// One field of each kind the wire types use, read through the shared decoder.
    struct Required: Codable, Equatable { var value: String }
    struct Optionals: Codable, Equatable { var text: String?; var number: Int?; var exact: Int64?; var flag: Bool? }

    @Test func requiredStringsMustBeStrings() throws {
        #expect(try Required(wire: ["value": parameters["id"]!]) == Required(value: "alpha"))
        #expect(throws: VarlinkError.invalidParameter("value")) { try Required(wire: ["value": parameters["count"]!]) }
        #expect(throws: VarlinkError.invalidParameter("value")) { try Required(wire: ["value": .null]) }
        #expect(throws: VarlinkError.invalidParameter("value")) { try Required(wire: [:]) }
    }

    @Test func optionalValuesAreNilWhenAbsentOrNullAndRefusedWhenMistyped() throws {
        #expect(try Optionals(wire: ["text": "alpha"]).text == "alpha")
        #expect(try Optionals(wire: ["text": .null]) == Optionals())
        #expect(try Optionals(wire: [:]) == Optionals())
        #expect(throws: VarlinkError.invalidParameter("text")) { try Optionals(wire: ["text": true]) }

        #expect(try Optionals(wire: ["exact": 5]).exact == 5)
        #expect(try Optionals(wire: ["number": 5]).number == 5)
        #expect(throws: VarlinkError.invalidParameter("exact")) { try Optionals(wire: ["exact": .double(5)]) }
        #expect(throws: VarlinkError.invalidParameter("number")) { try Optionals(wire: ["number": "5"]) }

        #expect(try Optionals(wire: ["flag": true]).flag == true)
        #expect(throws: VarlinkError.invalidParameter("flag")) { try Optionals(wire: ["flag": 5]) }

        #expect(parameters.stringValue("id") == "alpha" && parameters.stringValue("count") == nil)
    }

    @Test func unknownParametersAreNamed() throws {
        try parameters.rejectUnknown(allowed: ["id", "count", "ratio", "flag", "none", "text"])
        #expect(throws: VarlinkError.invalidParameter("ratio")) {
            try parameters.rejectUnknown(allowed: ["id", "count", "flag", "none", "text", "unused"])
        }
        #expect(throws: VarlinkError.invalidParameter("id")) { try parameters.rejectUnknown(allowed: []) }
        try JSONObject().rejectUnknown(allowed: [])
    }
}
