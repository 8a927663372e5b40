import LinuxSystem
import Testing

/// `Duration` to the clock's nanoseconds: never a trap, whatever the caller passes.
@Suite struct DurationTests {
    @Test func aNegativeDurationIsZeroNanosecondsEvenUnderASecond() {
        // Under a second, a negative duration has seconds 0 and negative attoseconds.
        #expect(Duration.milliseconds(-5).clampedNanoseconds == 0)
        #expect(Duration.nanoseconds(-1).clampedNanoseconds == 0)
        #expect(Duration.seconds(-3).clampedNanoseconds == 0)
        #expect(Duration.zero.clampedNanoseconds == 0)
    }

    @Test func aPositiveDurationIsItsNanosecondsAndAHugeOneIsTheMaximum() {
        #expect(Duration.milliseconds(1500).clampedNanoseconds == 1_500_000_000)
        #expect(Duration.nanoseconds(7).clampedNanoseconds == 7)
        #expect(Duration.seconds(Int64.max).clampedNanoseconds == .max)
        #expect(Duration.milliseconds(250).inSeconds == 0.25)
    }
}
