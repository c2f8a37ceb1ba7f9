namespace Parley.Bench.CallSetup;

/// <summary>One run, in milliseconds after the Join click: the call view shown, the first remote frame presented.</summary>
internal sealed record Measurement(double InCallMs, double FirstFrameMs);

/// <summary>What the in-page probe reports (performance.now() timestamps).</summary>
internal sealed record ProbeTimes(double? ClickAt, double? InCallAt, double FrameAt)
{
    public Measurement ToMeasurement()
    {
        var clickAt = ClickAt ?? throw new InvalidOperationException("The Join click was not seen by the probe.");
        return new Measurement((InCallAt ?? FrameAt) - clickAt, FrameAt - clickAt);
    }
}
