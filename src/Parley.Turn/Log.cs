using Microsoft.Extensions.Logging;

namespace Parley.Turn;

// Event ids 2000-2099: the TURN core. Never log credentials (usernames carry only an expiry and a user id; keys,
// passwords and secrets are never logged). Per-packet events are Trace.
internal static partial class Log
{
    [LoggerMessage(2000, LogLevel.Information, "Allocation {AllocationId} created for user {UserId} on {FiveTuple}: relayed {Relayed}, lifetime {Lifetime}s")]
    public static partial void AllocationCreated(ILogger logger, long allocationId, string userId, FiveTuple fiveTuple, string relayed, uint lifetime);

    [LoggerMessage(2001, LogLevel.Information, "Allocation {AllocationId} deleted ({Reason})")]
    public static partial void AllocationDeleted(ILogger logger, long allocationId, string reason);

    [LoggerMessage(2002, LogLevel.Debug, "Allocation {AllocationId} refreshed for {Lifetime}s")]
    public static partial void AllocationRefreshed(ILogger logger, long allocationId, uint lifetime);

    [LoggerMessage(2003, LogLevel.Debug, "Allocation {AllocationId}: permission installed for {Peer}")]
    public static partial void PermissionInstalled(ILogger logger, long allocationId, string peer);

    [LoggerMessage(2004, LogLevel.Debug, "Allocation {AllocationId}: channel {Channel} bound to {Peer}")]
    public static partial void ChannelBound(ILogger logger, long allocationId, ushort channel, string peer);

    [LoggerMessage(2005, LogLevel.Information, "Allocation {AllocationId}: peer {Peer} refused by the relay policy (403)")]
    public static partial void PeerDenied(ILogger logger, long allocationId, string peer);

    [LoggerMessage(2006, LogLevel.Debug, "{Method} from {Client} answered {Code} (allocation {AllocationId})")]
    public static partial void RequestFailed(ILogger logger, string method, string client, int code, long allocationId);

    [LoggerMessage(2007, LogLevel.Information, "Authentication failed from {Client}: {Reason} (allocation {AllocationId})")]
    public static partial void AuthenticationFailed(ILogger logger, string client, string reason, long allocationId);

    [LoggerMessage(2008, LogLevel.Warning, "Client IP {Client} reached {Limit} failed authentications; ignoring it for the rest of the window (allocation {AllocationId})")]
    public static partial void AuthenticationBlocked(ILogger logger, string client, int limit, long allocationId);

    [LoggerMessage(2009, LogLevel.Warning, "Allocation quota reached for user {UserId}: {Reason} (486, allocation {AllocationId})")]
    public static partial void QuotaReached(ILogger logger, string userId, string reason, long allocationId);

    [LoggerMessage(2010, LogLevel.Warning, "No relay port free for {Family} in {MinPort}-{MaxPort} (508, allocation {AllocationId})")]
    public static partial void NoRelayPort(ILogger logger, string family, int minPort, int maxPort, long allocationId);

    [LoggerMessage(2011, LogLevel.Debug, "Response to {Client} dropped: {Size} bytes would amplify a {RequestSize}-byte unauthenticated request (allocation {AllocationId})")]
    public static partial void AmplificationDropped(ILogger logger, string client, int size, int requestSize, long allocationId);

    [LoggerMessage(2020, LogLevel.Trace, "Allocation {AllocationId}: dropped {Size} bytes to {Direction} ({Reason})")]
    public static partial void PacketDropped(ILogger logger, long allocationId, int size, string direction, string reason);

    [LoggerMessage(2021, LogLevel.Trace, "Allocation {AllocationId}: relayed {Size} bytes {Direction}")]
    public static partial void PacketRelayed(ILogger logger, long allocationId, int size, string direction);

    [LoggerMessage(2030, LogLevel.Error, "Unexpected error handling a packet from {Client} (allocation {AllocationId})")]
    public static partial void UnexpectedError(ILogger logger, Exception exception, string client, long allocationId);
}
