import EventReactor
import Testing

/// A value a caller passes out of range is a thrown error that says which, never a trap.
@Suite struct CallerInputTests {
    @Test func aGroupOfNoReactorsIsRefusedNotATrap() {
        #expect(throws: ReactorError(.invalidArgument, "a group needs at least one reactor, not 0")) {
            try ReactorGroup(count: 0)
        }
    }

    @Test func aReactorWithNoOperationSlotsIsRefusedNotATrap() {
        var configuration = Reactor.Configuration()
        configuration.maxOperations = 0
        #expect(throws: ReactorError(.invalidArgument, "maxOperations must be 1…4294967294, not 0")) {
            try Reactor(configuration: configuration)
        }
    }

    @Test func aSystemCallErrorPrintsTheErrnoText() {
        #expect(ReactorError(.systemCall, errno: 12, "calloc: an operation table of 8 slots").description
                == "systemCall: calloc: an operation table of 8 slots: Cannot allocate memory (errno 12)")
    }
}

/// `--cancel-after` and `--delay` texts: refused with the position and what was expected there.
@Suite struct DelayDistributionParseTests {
    @Test(arguments: [
        ("bogus:1ms", 0, #"expected fixed:D, uniform:A-B or exp:MEAN (e.g. exp:2ms), not "bogus:""#),
        ("exp:fast", 4, #"expected a duration with a unit (ns, us, ms, s) such as 250us, not "fast""#),
        ("uniform:0us-2", 12, #"expected a duration with a unit (ns, us, ms, s) such as 250us, not "2""#),
        ("uniform:5ms", 8, "expected A-B, two durations, such as 0us-200us"),
        ("uniform:5ms-1ms", 8, "the lower bound 5ms is above the upper 1ms"),
        ("exp:0ms", 4, "the mean must be above 0"),
        ("1e30s", 0, #"expected a duration with a unit (ns, us, ms, s) such as 250us, not "1e30s""#),
        ("infms", 0, #"expected a duration with a unit (ns, us, ms, s) such as 250us, not "infms""#),
    ])
    func aBadDelayTextSaysWhereAndWhatWasExpected(_ text: String, _ position: Int, _ reason: String) {
        #expect(throws: DelayDistribution.ParseError(text: text, position: position, reason: reason)) {
            try DelayDistribution(parsing: text)
        }
        #expect(DelayDistribution(text) == nil)
    }

    @Test func everyFormParses() throws {
        #expect(try DelayDistribution(parsing: "250us") == .fixed(250_000))
        #expect(try DelayDistribution(parsing: "uniform:0us-2ms") == .uniform(0, 2_000_000))
        #expect(try DelayDistribution(parsing: "exp:2ms") == .exponential(mean: 2_000_000))
    }
}
