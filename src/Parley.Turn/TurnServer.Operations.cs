using Microsoft.Extensions.Logging;
using Parley.Stun;

namespace Parley.Turn;

// What the host's operations need: draining before a stop, and a read-only view of the allocations.
public sealed partial class TurnServer
{
    private volatile bool _draining;

    /// <summary>True once <see cref="BeginDraining"/> was called: new allocations are refused, existing ones relay on.</summary>
    public bool IsDraining => _draining;

    /// <summary>
    /// Stops creating allocations (Allocate gets 508 Insufficient Capacity, which clients treat like a full server and
    /// try their next TURN server) while existing allocations keep relaying, refreshing, and adding permissions and
    /// channels until the host stops the server. Called when the host starts stopping; cannot be undone.
    /// </summary>
    public void BeginDraining()
    {
        if (_draining)
        {
            return;
        }

        _draining = true;
        OperationsLog.Draining(_logger, AllocationCount);
    }

    /// <summary>A snapshot of every allocation for operators: no credentials, keys or client addresses.</summary>
    public IReadOnlyList<AllocationSnapshot> SnapshotAllocations()
    {
        long now = Now;
        List<AllocationSnapshot> snapshots = [];
        foreach (Allocation allocation in _allocations.Values)
        {
            int permissions, channels;
            long expiresAt;
            lock (allocation.Gate)
            {
                if (allocation.IsDeleted)
                {
                    continue;
                }

                permissions = allocation.PermissionCount;
                channels = allocation.ChannelCount;
                expiresAt = allocation.ExpiresAt;
            }

            snapshots.Add(new AllocationSnapshot(
                allocation.Id,
                allocation.UserId,
                allocation.FiveTuple.Protocol,
                [.. allocation.Relays.Select(r => r.Advertised.ToString())],
                _time.GetElapsedTime(allocation.CreatedAt, now),
                expiresAt > now ? _time.GetElapsedTime(now, expiresAt) : TimeSpan.Zero,
                permissions,
                channels));
        }

        snapshots.Sort((a, b) => a.Id.CompareTo(b.Id));
        return snapshots;
    }

    private void RefuseWhileDraining(ref RequestContext context)
    {
        OperationsLog.AllocateRefusedWhileDraining(_logger, context.FiveTuple);
        SendError(ref context, StunErrorCode.InsufficientCapacity);
    }
}

/// <summary>One allocation as operators see it (the admin API).</summary>
/// <param name="Id">The server-unique number that logs use.</param>
/// <param name="UserId">The user part of the TURN REST username (Parley puts the signaling peer id there).</param>
/// <param name="Protocol">How the client reaches the server: UDP, TCP or TLS.</param>
/// <param name="RelayAddresses">The relayed transport addresses, as advertised to the client.</param>
/// <param name="Age">Time since the allocation was created.</param>
/// <param name="ExpiresIn">Time left unless refreshed.</param>
/// <param name="Permissions">Installed permissions (peer IPs).</param>
/// <param name="Channels">Bound channels.</param>
public sealed record AllocationSnapshot(
    long Id, string UserId, TurnTransportProtocol Protocol, IReadOnlyList<string> RelayAddresses,
    TimeSpan Age, TimeSpan ExpiresIn, int Permissions, int Channels);

// Event ids 2150-2159: operations (draining).
internal static partial class OperationsLog
{
    [LoggerMessage(2150, LogLevel.Information, "TURN draining: no new allocations; {Count} existing allocations keep relaying")]
    public static partial void Draining(ILogger logger, int count);

    [LoggerMessage(2151, LogLevel.Debug, "Allocate from {FiveTuple} refused: draining (508)")]
    public static partial void AllocateRefusedWhileDraining(ILogger logger, FiveTuple fiveTuple);
}
