namespace Parley.Signaling.Protocol;

/// <summary>
/// A browser's summary of one peer connection, sent when it ends (docs/signaling-protocol.md, <c>call-report</c>).
/// It names nobody: no peer id, room, name or address. The server counts it in metrics and forgets it.
/// </summary>
public sealed record CallReportMessage : ClientMessage
{
    /// <summary>From the peer connection's creation to the report, 0–86 400 000.</summary>
    public required long DurationMs { get; init; }

    /// <summary>Whether the connection ever reached <c>connected</c>.</summary>
    public required bool Connected { get; init; }

    /// <summary>host, srflx, prflx or relay: the local candidate of the last selected pair, if any.</summary>
    public string? LocalCandidateType { get; init; }

    /// <summary>The remote candidate of the last selected pair, if any.</summary>
    public string? RemoteCandidateType { get; init; }

    /// <summary>udp, tcp or tls when the local candidate is a relay.</summary>
    public string? RelayProtocol { get; init; }

    /// <summary>Average round-trip time of the selected pair, 0–60 000 ms.</summary>
    public double? RttMs { get; init; }

    /// <summary>Fraction of inbound RTP packets lost, 0–1.</summary>
    public double? PacketLoss { get; init; }

    /// <summary>ICE restarts this side started or asked for, 0–1000.</summary>
    public required int IceRestarts { get; init; }

    /// <summary>Why the connection did not work: ice-failed or connect-timeout; absent when it did.</summary>
    public string? Failure { get; init; }
}

/// <summary>The accepted values and ranges of a <see cref="CallReportMessage"/>.</summary>
public static class CallReports
{
    public const int MaxMessageBytes = 1024;
    public const long MaxDurationMs = 86_400_000;
    public const double MaxRttMs = 60_000;
    public const int MaxIceRestarts = 1000;
    // Enum-like strings: short lowercase words. A well-formed value this server does not know is counted as "other",
    // so a newer client may add one; anything else is rejected.
    public const int MaxEnumLength = 32;

    public static readonly IReadOnlyList<string> CandidateTypes = ["host", "srflx", "prflx", "relay"];
    public static readonly IReadOnlyList<string> RelayProtocols = ["udp", "tcp", "tls"];
    public static readonly IReadOnlyList<string> Failures = ["ice-failed", "connect-timeout"];

    /// <summary>Null when <paramref name="report"/> is acceptable, else what is wrong with it.</summary>
    public static string? Validate(CallReportMessage report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.DurationMs is < 0 or > MaxDurationMs)
            return "durationMs must be between 0 and 86400000.";
        if (report.IceRestarts is < 0 or > MaxIceRestarts)
            return "iceRestarts must be between 0 and 1000.";
        if (report.RttMs is { } rtt && !(rtt >= 0 && rtt <= MaxRttMs))
            return "rttMs must be between 0 and 60000.";
        if (report.PacketLoss is { } loss && !(loss >= 0 && loss <= 1))
            return "packetLoss must be between 0 and 1.";
        foreach (var (name, value) in new[]
        {
            ("localCandidateType", report.LocalCandidateType), ("remoteCandidateType", report.RemoteCandidateType),
            ("relayProtocol", report.RelayProtocol), ("failure", report.Failure),
        })
        {
            if (value is not null && !IsEnumWord(value))
                return $"{name} must be a lowercase word of at most {MaxEnumLength} characters.";
        }
        return null;
    }

    /// <summary><paramref name="value"/> if it is one of <paramref name="known"/>, "none" if absent, else "other".</summary>
    public static string Label(string? value, IReadOnlyList<string> known)
    {
        if (value is null)
            return "none";
        foreach (var k in known)
        {
            if (string.Equals(k, value, StringComparison.Ordinal))
                return k;
        }
        return "other";
    }

    private static bool IsEnumWord(string value)
    {
        if (value.Length is 0 or > MaxEnumLength)
            return false;
        foreach (var c in value)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
                return false;
        }
        return true;
    }
}
