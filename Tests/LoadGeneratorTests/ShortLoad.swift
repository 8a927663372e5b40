import LoadGenerator

/// A short quiet closed-loop run against the embedded responder with 10 % of the queries cancelled
/// within 300 µs, as the run tests start from; `change` adjusts it.
func shortLoad(duration: Duration, outstanding: Int, _ change: (inout LoadConfiguration) -> Void) -> LoadConfiguration {
    var configuration = LoadConfiguration()
    configuration.duration = duration
    configuration.outstanding = outstanding
    configuration.quiet = true
    configuration.cancelRate = 0.1
    configuration.cancelAfter = .uniform(0, 300_000)
    change(&configuration)
    return configuration
}
