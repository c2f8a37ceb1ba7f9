using System.Diagnostics.Metrics;
using System.Runtime.InteropServices;

namespace Parley.Turn;

/// <summary>
/// Plain counters the TURN core bumps as it works: one <see cref="Interlocked"/> add per relayed packet and nothing
/// else — no allocation, no listener callback — so the relay path stays cheap whether or not anyone collects metrics.
/// <see cref="TurnMetrics"/> publishes them as observable counters, read only when metrics are collected.
/// </summary>
public sealed class TurnCounters
{
    // Each hot field on its own cache line: the two relay directions run on different threads.
    [StructLayout(LayoutKind.Explicit, Size = 192)]
    private struct Relay
    {
        [FieldOffset(0)] public long PacketsToPeer;
        [FieldOffset(8)] public long BytesToPeer;
        [FieldOffset(128)] public long PacketsToClient;
        [FieldOffset(136)] public long BytesToClient;
    }

    private Relay _relay;
    private long _allocationsCreated;
    private long _authWrongCredentials;
    private long _authExpired;

    /// <summary>Packets and bytes (payload, without TURN framing) relayed from clients to peers.</summary>
    public (long Packets, long Bytes) ToPeer => (Volatile.Read(ref _relay.PacketsToPeer), Volatile.Read(ref _relay.BytesToPeer));

    /// <summary>Packets and bytes (payload) relayed from peers to clients.</summary>
    public (long Packets, long Bytes) ToClient => (Volatile.Read(ref _relay.PacketsToClient), Volatile.Read(ref _relay.BytesToClient));

    /// <summary>Successful Allocate requests.</summary>
    public long AllocationsCreated => Volatile.Read(ref _allocationsCreated);

    /// <summary>Requests refused for a wrong username/password (or realm).</summary>
    public long AuthWrongCredentials => Volatile.Read(ref _authWrongCredentials);

    /// <summary>Requests refused because the TURN REST username had expired.</summary>
    public long AuthExpired => Volatile.Read(ref _authExpired);

    internal void RelayedToPeer(int bytes)
    {
        Interlocked.Increment(ref _relay.PacketsToPeer);
        Interlocked.Add(ref _relay.BytesToPeer, bytes);
    }

    internal void RelayedToClient(int bytes)
    {
        Interlocked.Increment(ref _relay.PacketsToClient);
        Interlocked.Add(ref _relay.BytesToClient, bytes);
    }

    internal void AllocationCreated() => Interlocked.Increment(ref _allocationsCreated);

    internal void AuthFailed(bool expired) => Interlocked.Increment(ref expired ? ref _authExpired : ref _authWrongCredentials);
}

/// <summary>
/// The TURN server's metrics (meter <c>Parley.Turn</c>; docs/observability.md): observable instruments over
/// <see cref="TurnServer.Counters"/> and <see cref="TurnServer.AllocationCount"/>, so collecting costs the relay path nothing.
/// </summary>
public sealed class TurnMetrics
{
    public const string MeterName = "Parley.Turn";

    public TurnMetrics(IMeterFactory meterFactory, TurnServer server)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        ArgumentNullException.ThrowIfNull(server);
        var meter = meterFactory.Create(MeterName);
        var counters = server.Counters;
        meter.CreateObservableUpDownCounter("parley.turn.allocations", () => server.AllocationCount, "{allocation}", "TURN allocations held now.");
        meter.CreateObservableCounter("parley.turn.allocations.created", () => counters.AllocationsCreated, "{allocation}", "TURN allocations created.");
        meter.CreateObservableCounter("parley.turn.relayed.packets", () => Both(counters.ToPeer.Packets, counters.ToClient.Packets), "{packet}",
            "Packets relayed, by direction (to_peer: from a client through its allocation; to_client: from a peer).");
        meter.CreateObservableCounter("parley.turn.relayed", () => Both(counters.ToPeer.Bytes, counters.ToClient.Bytes), "By",
            "Payload bytes relayed (without TURN framing), by direction.");
        meter.CreateObservableCounter("parley.turn.auth.failures", () => new Measurement<long>[]
        {
            new(counters.AuthWrongCredentials, new KeyValuePair<string, object?>("reason", "wrong-credentials")),
            new(counters.AuthExpired, new KeyValuePair<string, object?>("reason", "expired-username")),
        }, "{request}", "TURN requests refused with 401 for bad credentials, by reason (the first unauthenticated challenge is not a failure).");
    }

    private static Measurement<long>[] Both(long toPeer, long toClient) =>
    [
        new(toPeer, new KeyValuePair<string, object?>("direction", "to_peer")),
        new(toClient, new KeyValuePair<string, object?>("direction", "to_client")),
    ];
}
