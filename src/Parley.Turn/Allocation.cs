using Parley.Stun;

namespace Parley.Turn;

/// <summary>
/// The 5-tuple (RFC 8656 §2): client transport address, server transport address and transport protocol. It names
/// an allocation: there is at most one per 5-tuple.
/// </summary>
/// <param name="Client">The client's transport address (as seen by the server).</param>
/// <param name="Server">The server's transport address the client talks to.</param>
/// <param name="Protocol">UDP, TCP or TLS.</param>
public readonly record struct FiveTuple(TransportAddress Client, TransportAddress Server, TurnTransportProtocol Protocol)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Protocol} {Client} -> {Server}";
}

/// <summary>A permission (RFC 8656 §9): the peer IP (no port) data may flow to and from, until it expires.</summary>
internal sealed class Permission(TransportAddress peerIp, long expiresAt)
{
    public TransportAddress PeerIp { get; } = peerIp;

    public long ExpiresAt { get; set; } = expiresAt;
}

/// <summary>A channel binding (RFC 8656 §12): channel number to peer transport address, until it expires.</summary>
internal sealed class ChannelBinding(ushort number, TransportAddress peer, long expiresAt)
{
    public ushort Number { get; } = number;

    public TransportAddress Peer { get; } = peer;

    public long ExpiresAt { get; set; } = expiresAt;
}

/// <summary>
/// One relayed transport address of an allocation (two for a dual-stack allocation, RFC 8656 §7): the bound socket,
/// the address advertised for it, and where what peers send to it goes.
/// </summary>
internal sealed class RelayEndpoint(Allocation allocation, IRelaySocket socket, TransportAddress advertised) : IRelayReceiver
{
    public IRelaySocket Socket { get; } = socket;

    public TransportAddress Advertised { get; } = advertised;

    public StunAddressFamily Family => Socket.LocalAddress.Family;

    public void OnPeerPacket(ReadOnlySpan<byte> data, in TransportAddress peer) => allocation.Server.RelayFromPeer(allocation, data, peer);
}

/// <summary>
/// An allocation (RFC 8656 §2, §5): the relayed transport address(es) a client owns on the server, with its 5-tuple,
/// authentication state, lifetime, permissions and channel bindings. Mutable state is guarded by <see cref="Gate"/>.
/// </summary>
internal sealed class Allocation
{
    private readonly Dictionary<TransportAddress, Permission> _permissions = [];
    private readonly Dictionary<ushort, ChannelBinding> _channelsByNumber = [];
    private readonly Dictionary<TransportAddress, ChannelBinding> _channelsByPeer = [];
    private TokenBucket _toPeer;
    private TokenBucket _toClient;

    public Allocation(TurnServer server, long id, FiveTuple fiveTuple, ITurnClientTransport client, string username, string userId,
        byte[] key, StunTransactionId transactionId, long bandwidth, long now)
    {
        Server = server;
        Id = id;
        FiveTuple = fiveTuple;
        Client = client;
        Username = username;
        UserId = userId;
        Key = key;
        TransactionId = transactionId;
        CreatedAt = now;
        _toPeer = new TokenBucket(bandwidth, now);
        _toClient = new TokenBucket(bandwidth, now);
    }

    public TurnServer Server { get; }

    /// <summary>When the allocation was created (timestamp of the server's clock).</summary>
    public long CreatedAt { get; }

    /// <summary>A server-unique number for logs.</summary>
    public long Id { get; }

    public FiveTuple FiveTuple { get; }

    public ITurnClientTransport Client { get; }

    /// <summary>The USERNAME the allocation was created with; later requests must use it (RFC 8656 §5, 441).</summary>
    public string Username { get; }

    public string UserId { get; }

    /// <summary>The long-term key (MD5, 16 bytes, or SHA-256, 32 bytes: RFC 8489 §9.2.2) that authenticated the Allocate.</summary>
    public byte[] Key { get; }

    /// <summary>The Allocate's transaction id: a retransmission is answered again, another Allocate gets 437.</summary>
    public StunTransactionId TransactionId { get; }

    public RelayEndpoint[] Relays { get; set; } = [];

    public byte[]? ReservationToken { get; set; }

    public long ExpiresAt { get; set; }

    public bool IsDeleted { get; set; }

    public Lock Gate { get; } = new();

    public RelayEndpoint? RelayFor(StunAddressFamily family)
    {
        foreach (RelayEndpoint relay in Relays)
        {
            if (relay.Family == family)
            {
                return relay;
            }
        }

        return null;
    }

    // Callers hold Gate for everything below.

    public int PermissionCount => _permissions.Count;

    public int ChannelCount => _channelsByNumber.Count;

    public void InstallPermission(in TransportAddress peer, long expiresAt)
    {
        TransportAddress ip = peer.WithoutPort();
        if (_permissions.TryGetValue(ip, out Permission? permission))
        {
            permission.ExpiresAt = expiresAt;
        }
        else
        {
            _permissions.Add(ip, new Permission(ip, expiresAt));
        }
    }

    public bool HasPermission(in TransportAddress peer, long now) =>
        _permissions.TryGetValue(peer.WithoutPort(), out Permission? permission) && permission.ExpiresAt > now;

    public ChannelBinding? ChannelByNumber(ushort number, long now) =>
        _channelsByNumber.TryGetValue(number, out ChannelBinding? binding) && binding.ExpiresAt > now ? binding : null;

    public ChannelBinding? ChannelByPeer(in TransportAddress peer, long now) =>
        _channelsByPeer.TryGetValue(peer, out ChannelBinding? binding) && binding.ExpiresAt > now ? binding : null;

    /// <summary>
    /// RFC 8656 §12.2: a channel number stays tied to its peer (and the peer to its channel) while bound; false if the
    /// request would rebind either to something else.
    /// </summary>
    public bool TryBindChannel(ushort number, in TransportAddress peer, long expiresAt, long now)
    {
        ChannelBinding? byNumber = ChannelByNumber(number, now);
        ChannelBinding? byPeer = ChannelByPeer(peer, now);
        if ((byNumber is not null && byNumber.Peer != peer) || (byPeer is not null && byPeer.Number != number))
        {
            return false;
        }

        if (byNumber is not null)
        {
            byNumber.ExpiresAt = expiresAt;
            return true;
        }

        // An expired binding of either side is replaced.
        if (_channelsByNumber.Remove(number, out ChannelBinding? stale))
        {
            _channelsByPeer.Remove(stale.Peer);
        }

        if (_channelsByPeer.Remove(peer, out stale))
        {
            _channelsByNumber.Remove(stale.Number);
        }

        var binding = new ChannelBinding(number, peer, expiresAt);
        _channelsByNumber.Add(number, binding);
        _channelsByPeer.Add(peer, binding);
        return true;
    }

    public bool TryTakeToPeer(int bytes, long now, long frequency) => _toPeer.TryTake(bytes, now, frequency);

    public bool TryTakeToClient(int bytes, long now, long frequency) => _toClient.TryTake(bytes, now, frequency);

    /// <summary>Removes expired permissions and channel bindings; returns how many went.</summary>
    public int RemoveExpired(long now)
    {
        int removed = 0;
        List<TransportAddress>? expiredPermissions = null;
        foreach (Permission permission in _permissions.Values)
        {
            if (permission.ExpiresAt <= now)
            {
                (expiredPermissions ??= []).Add(permission.PeerIp);
            }
        }

        foreach (TransportAddress ip in expiredPermissions ?? [])
        {
            removed += _permissions.Remove(ip) ? 1 : 0;
        }

        List<ChannelBinding>? expiredChannels = null;
        foreach (ChannelBinding binding in _channelsByNumber.Values)
        {
            if (binding.ExpiresAt <= now)
            {
                (expiredChannels ??= []).Add(binding);
            }
        }

        foreach (ChannelBinding binding in expiredChannels ?? [])
        {
            _channelsByNumber.Remove(binding.Number);
            _channelsByPeer.Remove(binding.Peer);
            removed++;
        }

        return removed;
    }
}
