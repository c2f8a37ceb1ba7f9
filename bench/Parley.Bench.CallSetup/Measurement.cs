namespace Parley.Bench.CallSetup;

/// <summary>
/// One run, in milliseconds after the Join click: the call view shown, the first remote frame decoded, and
/// presented (decoded is the measure; presentation adds the wait for the next rendering opportunity).
/// </summary>
internal sealed record Measurement(double InCallMs, double FirstDecodedMs, double FirstFrameMs);

/// <summary>What the in-page probe reports (performance.now() timestamps).</summary>
internal sealed record ProbeTimes(double? ClickAt, double? InCallAt, double FrameAt, double? DecodedAt)
{
    public Measurement ToMeasurement()
    {
        var clickAt = ClickAt ?? throw new InvalidOperationException("The Join click was not seen by the probe.");
        return new Measurement((InCallAt ?? FrameAt) - clickAt, (DecodedAt ?? FrameAt) - clickAt, FrameAt - clickAt);
    }
}
