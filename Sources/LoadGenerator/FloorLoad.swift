extension LoadRun {
    /// The floor engine: being built (see FloorLoad in the README's design section).
    static func runFloor(_ configuration: LoadConfiguration, server: String) throws -> (LoadReport, LoadRecorder) {
        throw Failure("--engine floor is not built yet")
    }
}
