using System.Text.Json.Serialization;

namespace Parley.Bench.TurnLoad;

/// <summary>
/// What one scenario measured. Counts cover packets whose send time is in the measurement window.
/// A round trip is client → server → echo peer → server → client: the server relays two packets per round trip.
/// </summary>
internal sealed record LoadResult
{
    public required string Label { get; init; }
    public required string Server { get; init; }
    public required string Transport { get; init; }
    public required int Allocations { get; init; }

    /// <summary>Packets/s per allocation; 0 = unthrottled (closed loop).</summary>
    public required int Rate { get; init; }
    public required int Window { get; init; }
    public required int Size { get; init; }
    public required double DurationSeconds { get; init; }
    public required string StartedUtc { get; init; }

    public required int AllocationsReady { get; init; }
    public required int SetupErrors { get; init; }
    public string? FirstSetupError { get; init; }
    public required double SetupSeconds { get; init; }
    public required int Refreshes { get; init; }
    public required int RefreshErrors { get; init; }

    /// <summary>ChannelData packets the clients sent.</summary>
    public required long Sent { get; init; }

    /// <summary>Of those, packets the echo peer received (relayed client → peer).</summary>
    public required long PeerReceived { get; init; }

    /// <summary>Echoes the clients received (relayed peer → client): completed round trips.</summary>
    public required long Received { get; init; }
    public required double LossPercent { get; init; }
    public required double OutboundLossPercent { get; init; }

    /// <summary>Paced runs: packets sent in percent of rate × allocations × duration (under 100: the tool was starved).</summary>
    public double? OfferedPercent { get; init; }

    /// <summary>Completed round trips per second.</summary>
    public required double RoundTripsPerSecond { get; init; }

    /// <summary>Packets the server relayed per second, both directions (peer-received + client-received).</summary>
    public required double RelayedPacketsPerSecond { get; init; }

    /// <summary>Application payload the server relayed, both directions, in Mbit/s.</summary>
    public required double RelayedMbitPerSecond { get; init; }
    public required long P50Microseconds { get; init; }
    public required long P90Microseconds { get; init; }
    public required long P99Microseconds { get; init; }
    public required long MaxMicroseconds { get; init; }

    public int? ServerPid { get; init; }
    public double? ServerCpuSeconds { get; init; }

    /// <summary>Server CPU in percent of one core over the window.</summary>
    public double? ServerCpuPercent { get; init; }

    /// <summary>Server CPU seconds per million relayed packets (both directions).</summary>
    public double? ServerCpuSecondsPerMillionPackets { get; init; }
    public long? ServerRssKib { get; init; }
    public long? ServerPeakRssKib { get; init; }

    /// <summary>This tool's CPU in percent of one core over the window: compare with the server's.</summary>
    public required double ClientCpuPercent { get; init; }

    /// <summary>All CPUs busy, percent of the machine (100 = every core busy).</summary>
    public required double MachineBusyPercent { get; init; }
    public required int MachineCores { get; init; }

    /// <summary>The one-minute load average at the end: other work on the machine makes numbers noisy.</summary>
    public required double LoadAverage { get; init; }

    /// <summary>Bytes the tool allocated (all threads) during the window per round trip: the hot path allocates nothing.</summary>
    public required double ClientAllocatedBytesPerRoundTrip { get; init; }
    public required long SendErrors { get; init; }

    /// <summary>Datagrams dropped at the tool's full UDP receive buffers (client sockets, echo peer): the tool was the limit.</summary>
    public long ToolSocketDrops { get; init; }

    /// <summary>Datagrams dropped at every other UDP socket in the namespace (the server's) during the run.</summary>
    public long ServerSocketDrops { get; init; }
    public required long UnexpectedPackets { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LoadResult))]
internal sealed partial class ResultJsonContext : JsonSerializerContext;
