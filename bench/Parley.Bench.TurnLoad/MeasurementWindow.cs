namespace Parley.Bench.TurnLoad;

/// <summary>
/// The measured interval on the <see cref="System.Diagnostics.Stopwatch"/> clock. A packet counts when its send
/// time (carried in its payload) falls inside, wherever it is counted: at the sender, the echo peer or the receiver.
/// Warm-up traffic and packets sent after the end are relayed but not counted.
/// </summary>
internal sealed class MeasurementWindow
{
    private long _start = long.MaxValue;
    private long _end = long.MaxValue;
    private volatile bool _sending;

    /// <summary>While true, senders keep sending.</summary>
    public bool Sending
    {
        get => _sending;
        set => _sending = value;
    }

    public long Start => Volatile.Read(ref _start);

    public long End => Volatile.Read(ref _end);

    public void Set(long start, long end)
    {
        Volatile.Write(ref _end, end);
        Volatile.Write(ref _start, start);
    }

    public bool Contains(long timestamp) => timestamp >= Volatile.Read(ref _start) && timestamp < Volatile.Read(ref _end);
}
