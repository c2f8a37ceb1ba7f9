namespace Parley.Turn;

public sealed partial class TurnServer
{
    private readonly TurnCounters _counters = new();

    /// <summary>Relayed packets and bytes, allocations created and authentication failures since start (see <see cref="TurnMetrics"/>).</summary>
    public TurnCounters Counters => _counters;
}
