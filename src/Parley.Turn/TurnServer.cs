using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Parley.Stun;

namespace Parley.Turn;

/// <summary>
/// The STUN/TURN server core (RFC 8489, RFC 8656). Hosts feed it every packet received on a listener
/// (<see cref="OnClientPacket"/>) and tell it when a TCP/TLS connection closes (<see cref="OnConnectionClosed"/>);
/// it answers through the <see cref="ITurnClientTransport"/> the packet came from and relays through sockets from the
/// <see cref="IRelaySocketFactory"/>. All time comes from the <see cref="TimeProvider"/>. Thread-safe.
/// <para>
/// The relay paths (ChannelData and Send indications to peers, peer datagrams to clients as ChannelData or Data
/// indications) allocate nothing per packet.
/// </para>
/// </summary>
public sealed partial class TurnServer : IDisposable
{
    private const int MaxResponseLength = 1024;
    private const int ReservationLifetimeSeconds = 30; // RFC 8656 §7.2: "approximately 30 seconds"
    private const int MaxPortAttempts = 64;

    private readonly TurnOptions _options;
    private readonly IRelaySocketFactory _relaySockets;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly NonceService _nonces;
    private readonly CredentialVerifier _credentials;
    private readonly FailedAuthLimiter _failedAuth;
    private readonly ConcurrentDictionary<FiveTuple, Allocation> _allocations = new();
    private readonly Dictionary<string, int> _allocationsPerUser = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, Reservation> _reservations = [];
    private readonly Lock _gate = new();
    private readonly TransportAddress[] _relayAddresses;
    private readonly TransportAddress[] _externalAddresses;
    private readonly byte[]? _software;
    private readonly ITimer _sweepTimer;
    private long _nextAllocationId;
    private int _allocationCount;

    private sealed record Reservation(IRelaySocket Socket, long ExpiresAt);

    /// <summary>Creates the server from options (validated by <see cref="TurnOptionsValidator"/>).</summary>
    public TurnServer(IOptions<TurnOptions> options, IRelaySocketFactory relaySockets, TimeProvider timeProvider, ILogger<TurnServer>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _relaySockets = relaySockets ?? throw new ArgumentNullException(nameof(relaySockets));
        _time = timeProvider ?? throw new ArgumentNullException(nameof(timeProvider));
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _nonces = new NonceService(_time, _options.NonceLifetime);
        _credentials = new CredentialVerifier(_options.SharedSecrets, _options.Realm, _time);
        _failedAuth = new FailedAuthLimiter(_options.FailedAuthLimit, _options.FailedAuthWindow, _time);
        _relayAddresses = [.. _options.RelayAddresses.Select(ParseAddress)];
        _externalAddresses = [.. _options.ExternalAddresses.Select(ParseAddress)];
        _software = _options.Software is null ? null : Encoding.UTF8.GetBytes(_options.Software);
        IEnumerable<TransportAddress> listening = _options.EffectiveListenAddresses.Select(ParseAddress)
            .Where(a => !IPAddress.Any.Equals(a.ToIPEndPoint().Address) && !IPAddress.IPv6Any.Equals(a.ToIPEndPoint().Address));
        Policy = new RelayPolicy(_options.AllowedPeerRanges.Select(IpRange.Parse), listening,
            _relayAddresses.Concat(_externalAddresses), _options.MinRelayPort, _options.MaxRelayPort);
        TimeSpan sweep = SweepInterval;
        _sweepTimer = _time.CreateTimer(_ => Sweep(), null, sweep, sweep);
    }

    /// <summary>How often expired allocations, permissions, channels and reservations are removed: one second.</summary>
    public static TimeSpan SweepInterval { get; } = TimeSpan.FromSeconds(1);

    /// <summary>The relay policy in force.</summary>
    public RelayPolicy Policy { get; }

    /// <summary>Allocations currently held.</summary>
    public int AllocationCount => Volatile.Read(ref _allocationCount);

    private long Now => _time.GetTimestamp();

    private long After(TimeSpan span) => Now + (long)(span.TotalSeconds * _time.TimestampFrequency);

    private long AfterSeconds(uint seconds) => Now + (seconds * _time.TimestampFrequency);

    /// <summary>
    /// Handles one packet from a client: a datagram from a UDP listener or one frame cut by
    /// <see cref="StreamFramer"/> from a TCP/TLS connection. Never throws for bad input.
    /// </summary>
    public void OnClientPacket(ITurnClientTransport transport, in TransportAddress client, ReadOnlySpan<byte> packet)
    {
        ArgumentNullException.ThrowIfNull(transport);
        var fiveTuple = new FiveTuple(client, transport.LocalAddress, transport.Protocol);
        try
        {
            switch (PacketClassifier.Classify(packet))
            {
                case PacketKind.ChannelData:
                    HandleChannelData(fiveTuple, packet);
                    break;
                case PacketKind.Stun:
                    HandleStun(transport, fiveTuple, packet);
                    break;
                default:
                    break; // RFC 8656 §12: neither STUN nor ChannelData, discarded.
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // A bug, not a wire condition: log it and drop the packet, never the server.
            Log.UnexpectedError(_logger, exception, client.ToString(), _allocations.TryGetValue(fiveTuple, out Allocation? a) ? a.Id : 0);
        }
    }

    /// <summary>A TCP/TLS connection closed: its allocation goes with it (RFC 8656 §3.1).</summary>
    public void OnConnectionClosed(ITurnClientTransport transport, in TransportAddress client)
    {
        ArgumentNullException.ThrowIfNull(transport);
        if (_allocations.TryGetValue(new FiveTuple(client, transport.LocalAddress, transport.Protocol), out Allocation? allocation))
        {
            Delete(allocation, "connection closed");
        }
    }

    /// <summary>Deletes every allocation and stops the sweep timer.</summary>
    public void Dispose()
    {
        _sweepTimer.Dispose();
        foreach (Allocation allocation in _allocations.Values)
        {
            Delete(allocation, "server stopping");
        }

        lock (_gate)
        {
            foreach (Reservation reservation in _reservations.Values)
            {
                reservation.Socket.Dispose();
            }

            _reservations.Clear();
        }
    }

    private void HandleStun(ITurnClientTransport transport, in FiveTuple fiveTuple, ReadOnlySpan<byte> packet)
    {
        if (!StunMessage.TryRead(packet, out StunMessage message).IsComplete)
        {
            return; // malformed or truncated: RFC 8489 §6.3 says discard
        }

        if (message.Class == StunClass.Indication)
        {
            if (message.Method == StunMethod.Send)
            {
                HandleSend(fiveTuple, message);
            }

            return; // other indications (Binding keep-alives) need no answer
        }

        if (message.Class != StunClass.Request)
        {
            return; // responses are not for a server
        }

        // RFC 8489 §7.3: a FINGERPRINT that does not match means this is not STUN after all.
        if (message.HasFingerprint && !message.VerifyFingerprint())
        {
            return;
        }

        var context = new RequestContext(transport, fiveTuple, message);
        if (message.Method == StunMethod.Binding)
        {
            HandleBinding(ref context);
            return;
        }

        if (message.Method is not (StunMethod.Allocate or StunMethod.Refresh or StunMethod.CreatePermission or StunMethod.ChannelBind))
        {
            SendError(ref context, StunErrorCode.BadRequest); // unknown method (RFC 8489 §6.3.1)
            return;
        }

        _allocations.TryGetValue(fiveTuple, out Allocation? allocation);
        context.Allocation = allocation;
        Span<byte> key = stackalloc byte[StunIntegrity.MaxKeyLength];
        if (!Authenticate(ref context, key))
        {
            return;
        }

        // RFC 8489 §6.3.1: unknown comprehension-required attributes, once authentication is done.
        Span<StunAttributeType> unknown = stackalloc StunAttributeType[8];
        int unknownCount = message.GetUnknownComprehensionRequired(unknown);
        if (unknownCount > 0)
        {
            SendUnknownAttributes(ref context, unknown[..unknownCount]);
            return;
        }

        switch (message.Method)
        {
            case StunMethod.Allocate:
                HandleAllocate(ref context);
                break;
            case StunMethod.Refresh:
                HandleRefresh(ref context);
                break;
            case StunMethod.CreatePermission:
                HandleCreatePermission(ref context);
                break;
            default:
                HandleChannelBind(ref context);
                break;
        }
    }

    // RFC 8489 §7.3.1 and the XOR-MAPPED-ADDRESS of §14.2: a Binding request needs no credentials.
    private void HandleBinding(ref RequestContext context)
    {
        Span<byte> buffer = stackalloc byte[MaxResponseLength];
        var writer = new StunMessageWriter(buffer, context.Request.Type.SuccessResponse, context.Request.TransactionId);
        writer.WriteXorAddress(StunAttributeType.XorMappedAddress, context.FiveTuple.Client);
        Finish(ref context, writer, authenticated: false);
    }

    /// <summary>
    /// Long-term credentials (RFC 8489 §9.2.4) with TURN REST usernames, the failed-auth limiter, nonce expiry (438),
    /// the password algorithms of §9.2.4/§18.5 and the same-username rule of RFC 8656 §5 (441). On success the context
    /// carries the username, the key (MD5 or SHA-256, in <paramref name="key"/> too) and which integrity attribute the
    /// responses carry.
    /// </summary>
    private bool Authenticate(ref RequestContext context, scoped Span<byte> key)
    {
        StunMessage request = context.Request;
        TransportAddress client = context.FiveTuple.Client;
        if (_failedAuth.IsBlocked(client))
        {
            return false; // silently: no work, no answer (see FailedAuthLimiter)
        }

        // §9.2.4: neither MESSAGE-INTEGRITY nor MESSAGE-INTEGRITY-SHA256: 401 with REALM and NONCE (and
        // PASSWORD-ALGORITHMS when offered), the challenge every client expects first.
        if (!request.HasMessageIntegrity && !request.HasMessageIntegritySha256)
        {
            SendChallenge(ref context, StunErrorCode.Unauthorized);
            return false;
        }

        // Integrity without USERNAME or USERHASH, REALM or NONCE: 400.
        bool hasUsername = request.TryGetUsername(out ReadOnlySpan<byte> username);
        if ((!hasUsername && !request.HasAttribute(StunAttributeType.UserHash)) || !request.TryGetRealm(out ReadOnlySpan<byte> realm)
            || !request.TryGetNonce(out ReadOnlySpan<byte> nonce))
        {
            SendError(ref context, StunErrorCode.BadRequest);
            return false;
        }

        // A nonce that is no longer valid: 438 with a new one. A nonce made for another IP, or whose security-feature
        // bits were changed, is not valid either. (Checked before the password algorithms, whose rules depend on the
        // nonce's cookie: only a nonce this server minted says what it offered.)
        if (_nonces.Validate(nonce, client, out SecurityFeatures features) != NonceService.Check.Valid)
        {
            SendChallenge(ref context, StunErrorCode.StaleNonce);
            return false;
        }

        // §9.2.4 bid-down checks on PASSWORD-ALGORITHMS / PASSWORD-ALGORITHM: 400.
        if (!TryChoosePasswordAlgorithm(request, features, out StunPasswordAlgorithm algorithm))
        {
            SendError(ref context, StunErrorCode.BadRequest);
            return false;
        }

        // USERHASH without USERNAME: Username anonymity is not offered (the nonce bit is never set; a REST username
        // cannot be found from its hash), so the user is unknown: 401, as for an invalid USERNAME.
        if (!hasUsername)
        {
            _counters.AuthFailed(expired: false);
            Fail(ref context, "USERHASH (username anonymity is not offered)");
            return false;
        }

        // The key from the username under one of the shared secrets; a wrong one (or another realm) is 401. With both
        // integrity attributes the server uses MESSAGE-INTEGRITY-SHA256 (§14.6, §9.2.4).
        bool sha256Integrity = request.HasMessageIntegritySha256;
        int keyLength = realm.SequenceEqual(_credentials.Realm) ? _credentials.TryVerify(request, username, algorithm, sha256Integrity, key) : 0;
        if (keyLength == 0)
        {
            _counters.AuthFailed(expired: false);
            Fail(ref context, "wrong credentials");
            return false;
        }

        key = key[..keyLength];
        context.IntegritySha256 = sha256Integrity;
        string usernameText = Encoding.UTF8.GetString(username);
        Allocation? allocation = context.Allocation;

        // RFC 8656 §5: requests on an allocation must use the username that created it (441).
        if (allocation is not null && !string.Equals(allocation.Username, usernameText, StringComparison.Ordinal))
        {
            context.Key = key.ToArray();
            SendError(ref context, StunErrorCode.WrongCredentials);
            return false;
        }

        // TURN REST: the username carries its expiry. An expired one may keep refreshing only if configured.
        if (_credentials.IsExpired(usernameText)
            && !(_options.AllowExpiredRefresh && allocation is not null && request.Method != StunMethod.Allocate))
        {
            _counters.AuthFailed(expired: true);
            Fail(ref context, "expired username");
            return false;
        }

        context.Key = key.ToArray();
        context.Username = usernameText;
        return true;
    }

    /// <summary>
    /// RFC 8489 §9.2.4, the password algorithm of a request whose nonce is ours. With the "Password algorithms" bit in
    /// the nonce: neither PASSWORD-ALGORITHMS nor PASSWORD-ALGORITHM means MD5; otherwise both must be present, the
    /// list must be exactly the one the challenge sent, and the choice one of its entries, else false (400). Without
    /// the bit nothing was offered but MD5: a PASSWORD-ALGORITHM naming another algorithm is false (400) too.
    /// </summary>
    internal static bool TryChoosePasswordAlgorithm(StunMessage request, SecurityFeatures features, out StunPasswordAlgorithm algorithm)
    {
        algorithm = StunPasswordAlgorithm.Md5;
        bool hasChoice = request.HasAttribute(StunAttributeType.PasswordAlgorithm);
        bool choiceWellFormed = request.TryGetPasswordAlgorithm(out StunPasswordAlgorithm chosen);
        if ((features & SecurityFeatures.PasswordAlgorithms) == 0)
        {
            return !hasChoice || (choiceWellFormed && chosen == StunPasswordAlgorithm.Md5);
        }

        bool hasList = request.TryGetAttribute(StunAttributeType.PasswordAlgorithms, out ReadOnlySpan<byte> list);
        if (!hasList && !hasChoice)
        {
            return true;
        }

        // (1) both present, (2) PASSWORD-ALGORITHMS as sent with this nonce, (3) PASSWORD-ALGORITHM one of its entries.
        if (!hasList || !choiceWellFormed || !list.SequenceEqual(OfferedPasswordAlgorithms) || !IsOffered(chosen))
        {
            return false;
        }

        algorithm = chosen;
        return true;
    }

    private void Fail(ref RequestContext context, string reason)
    {
        TransportAddress client = context.FiveTuple.Client;
        _failedAuth.RecordFailure(client);
        long allocationId = context.Allocation?.Id ?? 0;
        Log.AuthenticationFailed(_logger, client.WithoutPort().ToString(), reason, allocationId);
        if (_failedAuth.IsBlocked(client))
        {
            Log.AuthenticationBlocked(_logger, client.WithoutPort().ToString(), _options.FailedAuthLimit, allocationId);
        }

        SendChallenge(ref context, StunErrorCode.Unauthorized);
    }

    // RFC 8656 §7.2: the Allocate request.
    private void HandleAllocate(ref RequestContext context)
    {
        StunMessage request = context.Request;
        FiveTuple fiveTuple = context.FiveTuple;

        // 1. (authentication done) 2. An allocation on this 5-tuple: a retransmission is answered again, else 437.
        if (context.Allocation is { } existing)
        {
            if (existing.TransactionId == request.TransactionId)
            {
                SendAllocateSuccess(ref context, existing, RemainingSeconds(existing));
            }
            else
            {
                SendError(ref context, StunErrorCode.AllocationMismatch);
            }

            return;
        }

        // While draining (the host is stopping) no new allocation: 508, as when out of capacity; existing ones go on.
        if (IsDraining)
        {
            RefuseWhileDraining(ref context);
            return;
        }

        // 3. REQUESTED-TRANSPORT: missing or malformed is 400; only UDP (17) is relayed, anything else 442.
        if (!request.TryGetRequestedTransport(out byte protocol))
        {
            SendError(ref context, StunErrorCode.BadRequest);
            return;
        }

        if (protocol != 17)
        {
            SendError(ref context, StunErrorCode.UnsupportedTransportProtocol);
            return;
        }

        // 4. DONT-FRAGMENT: relay sockets do not set DF per datagram, so the attribute is rejected as unknown (420).
        if (request.HasDontFragment)
        {
            SendUnknownAttributes(ref context, [StunAttributeType.DontFragment]);
            return;
        }

        bool hasToken = request.TryGetReservationToken(out ReadOnlySpan<byte> token);
        bool hasEvenPort = request.TryGetEvenPort(out bool reserveNext);
        bool hasRequestedFamily = request.TryGetRequestedAddressFamily(out StunAddressFamily requestedFamily);
        bool hasAdditionalFamily = request.TryGetAdditionalAddressFamily(out StunAddressFamily additionalFamily);

        // 5. RESERVATION-TOKEN excludes EVEN-PORT and the address-family attributes (400).
        if (hasToken && (hasEvenPort || hasRequestedFamily || hasAdditionalFamily))
        {
            SendError(ref context, StunErrorCode.BadRequest);
            return;
        }

        // 6-7. REQUESTED-ADDRESS-FAMILY and ADDITIONAL-ADDRESS-FAMILY are exclusive; the additional one may only be IPv6.
        if ((hasRequestedFamily && hasAdditionalFamily) || (hasAdditionalFamily && additionalFamily != StunAddressFamily.IPv6)
            || (request.HasAttribute(StunAttributeType.RequestedAddressFamily) && !hasRequestedFamily)
            || (request.HasAttribute(StunAttributeType.AdditionalAddressFamily) && !hasAdditionalFamily))
        {
            SendError(ref context, StunErrorCode.BadRequest);
            return;
        }

        StunAddressFamily family = hasRequestedFamily ? requestedFamily : StunAddressFamily.IPv4;
        if (!hasToken && !HasRelayAddress(family))
        {
            SendError(ref context, StunErrorCode.AddressFamilyNotSupported); // 440
            return;
        }

        // 8. Quotas: per user id and in total (486).
        string username = context.Username!;
        string userId = TurnCredentials.TryParseUsername(username, out _, out ReadOnlySpan<char> userIdSpan) ? userIdSpan.ToString() : username;
        long id = Interlocked.Increment(ref _nextAllocationId);
        if (!TryReserveQuota(userId, id))
        {
            SendError(ref context, StunErrorCode.AllocationQuotaReached);
            return;
        }

        var allocation = new Allocation(this, id, fiveTuple, context.Transport, username, userId, context.Key!,
            request.TransactionId, _options.MaxBandwidthBytesPerSecond, Now);
        List<RelayEndpoint> relays = [];
        bool ipv6Failed = false;

        // 9. The relayed transport address: from a reservation, an even port (maybe reserving the next), or any port.
        IRelaySocket? socket;
        byte[]? newToken = null;
        if (hasToken)
        {
            socket = TakeReservation(token);
        }
        else
        {
            socket = BindRelay(family, hasEvenPort, reserveNext, out newToken, id);
        }

        if (socket is null)
        {
            ReleaseQuota(userId);
            // No port left in the range, or (RFC 8656 §7.2) a reservation token that is unknown or expired: 508.
            SendError(ref context, StunErrorCode.InsufficientCapacity);
            return;
        }

        relays.Add(new RelayEndpoint(allocation, socket, Advertise(socket.LocalAddress)));

        // RFC 8656 §7.2 (ADDITIONAL-ADDRESS-FAMILY): a dual allocation; failing the IPv6 half is reported, not fatal.
        if (hasAdditionalFamily)
        {
            IRelaySocket? second = HasRelayAddress(StunAddressFamily.IPv6) ? BindRelay(StunAddressFamily.IPv6, false, false, out _, id) : null;
            if (second is null)
            {
                ipv6Failed = true;
            }
            else
            {
                relays.Add(new RelayEndpoint(allocation, second, Advertise(second.LocalAddress)));
            }
        }

        allocation.Relays = [.. relays];
        allocation.ReservationToken = newToken;
        uint lifetime = DesiredLifetime(request, allowZero: false);
        allocation.ExpiresAt = AfterSeconds(lifetime);
        if (!_allocations.TryAdd(fiveTuple, allocation))
        {
            // A concurrent Allocate on the same 5-tuple won the race.
            foreach (RelayEndpoint relay in allocation.Relays)
            {
                relay.Socket.Dispose();
            }

            ReleaseQuota(userId);
            SendError(ref context, StunErrorCode.AllocationMismatch);
            return;
        }

        foreach (RelayEndpoint relay in allocation.Relays)
        {
            relay.Socket.Start(relay);
        }

        _counters.AllocationCreated();
        Log.AllocationCreated(_logger, id, userId, fiveTuple, string.Join(", ", allocation.Relays.Select(r => r.Advertised)), lifetime);
        SendAllocateSuccess(ref context, allocation, lifetime, ipv6Failed);
    }

    private void SendAllocateSuccess(ref RequestContext context, Allocation allocation, uint lifetime, bool ipv6Failed = false)
    {
        Span<byte> buffer = stackalloc byte[MaxResponseLength];
        var writer = new StunMessageWriter(buffer, context.Request.Type.SuccessResponse, context.Request.TransactionId);
        foreach (RelayEndpoint relay in allocation.Relays)
        {
            writer.WriteXorAddress(StunAttributeType.XorRelayedAddress, relay.Advertised);
        }

        if (ipv6Failed)
        {
            writer.WriteAddressErrorCode(StunAddressFamily.IPv6, StunErrorCode.InsufficientCapacity);
        }

        writer.WriteLifetime(lifetime);
        if (allocation.ReservationToken is { } token)
        {
            writer.WriteReservationToken(token);
        }

        writer.WriteXorAddress(StunAttributeType.XorMappedAddress, context.FiveTuple.Client);
        Finish(ref context, writer, authenticated: true);
    }

    // RFC 8656 §8.2: the Refresh request. LIFETIME 0 deletes the allocation.
    private void HandleRefresh(ref RequestContext context)
    {
        // No allocation on this 5-tuple: 437.
        if (context.Allocation is not { } allocation)
        {
            SendError(ref context, StunErrorCode.AllocationMismatch);
            return;
        }

        // REQUESTED-ADDRESS-FAMILY naming a family the allocation does not have: 443.
        if (context.Request.TryGetRequestedAddressFamily(out StunAddressFamily family) && allocation.RelayFor(family) is null)
        {
            SendError(ref context, StunErrorCode.PeerAddressFamilyMismatch);
            return;
        }

        uint lifetime = DesiredLifetime(context.Request, allowZero: true);
        if (lifetime == 0)
        {
            Delete(allocation, "refreshed with lifetime 0");
        }
        else
        {
            lock (allocation.Gate)
            {
                allocation.ExpiresAt = AfterSeconds(lifetime);
            }

            Log.AllocationRefreshed(_logger, allocation.Id, lifetime);
        }

        Span<byte> buffer = stackalloc byte[MaxResponseLength];
        var writer = new StunMessageWriter(buffer, context.Request.Type.SuccessResponse, context.Request.TransactionId);
        writer.WriteLifetime(lifetime);
        Finish(ref context, writer, authenticated: true);
    }

    // RFC 8656 §10.2: the CreatePermission request, all or nothing.
    private void HandleCreatePermission(ref RequestContext context)
    {
        if (context.Allocation is not { } allocation)
        {
            SendError(ref context, StunErrorCode.AllocationMismatch);
            return;
        }

        // 1. At least one XOR-PEER-ADDRESS, each well-formed (400); each of a family the allocation relays (443) and
        //    allowed by the relay policy (403). No permission is installed unless all are acceptable.
        int count = 0;
        foreach (StunAttribute attribute in context.Request.Enumerate(StunAttributeType.XorPeerAddress))
        {
            if (!context.Request.TryReadXorAddress(attribute, out TransportAddress peer))
            {
                SendError(ref context, StunErrorCode.BadRequest);
                return;
            }

            int code = CheckPeer(allocation, peer, perPacket: false);
            if (code != 0)
            {
                SendError(ref context, code);
                return;
            }

            count++;
        }

        if (count == 0)
        {
            SendError(ref context, StunErrorCode.BadRequest);
            return;
        }

        // 2. Install or refresh each permission for 300 seconds.
        long expiresAt = After(_options.PermissionLifetime);
        lock (allocation.Gate)
        {
            foreach (StunAttribute attribute in context.Request.Enumerate(StunAttributeType.XorPeerAddress))
            {
                context.Request.TryReadXorAddress(attribute, out TransportAddress peer);
                allocation.InstallPermission(peer, expiresAt);
            }
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
            foreach (StunAttribute attribute in context.Request.Enumerate(StunAttributeType.XorPeerAddress))
            {
                context.Request.TryReadXorAddress(attribute, out TransportAddress peer);
                Log.PermissionInstalled(_logger, allocation.Id, peer.WithoutPort().ToIPEndPoint().Address.ToString());
            }
        }

        Span<byte> buffer = stackalloc byte[MaxResponseLength];
        var writer = new StunMessageWriter(buffer, context.Request.Type.SuccessResponse, context.Request.TransactionId);
        Finish(ref context, writer, authenticated: true);
    }

    // RFC 8656 §12.2: the ChannelBind request.
    private void HandleChannelBind(ref RequestContext context)
    {
        if (context.Allocation is not { } allocation)
        {
            SendError(ref context, StunErrorCode.AllocationMismatch);
            return;
        }

        StunMessage request = context.Request;

        // 1. CHANNEL-NUMBER present and in 0x4000-0x4FFF, XOR-PEER-ADDRESS present: else 400.
        if (!request.TryGetChannelNumber(out ushort number) || !ChannelData.IsValidChannelNumber(number)
            || !request.TryGetXorAddress(StunAttributeType.XorPeerAddress, out TransportAddress peer))
        {
            SendError(ref context, StunErrorCode.BadRequest);
            return;
        }

        // 2. The peer's family must be relayed (443) and the peer allowed (403).
        int code = CheckPeer(allocation, peer, perPacket: true);
        if (code != 0)
        {
            SendError(ref context, code);
            return;
        }

        // 3. The channel is not bound to another peer, nor the peer to another channel (400); then bind or refresh
        //    for 10 minutes, and install or refresh the peer's permission for 5 (§12.2, last paragraph).
        lock (allocation.Gate)
        {
            if (!allocation.TryBindChannel(number, peer, After(_options.ChannelBindingLifetime), Now))
            {
                code = StunErrorCode.BadRequest;
            }
            else
            {
                allocation.InstallPermission(peer, After(_options.PermissionLifetime));
            }
        }

        if (code != 0)
        {
            SendError(ref context, code);
            return;
        }

        if (_logger.IsEnabled(LogLevel.Debug))
        {
            Log.ChannelBound(_logger, allocation.Id, number, peer.ToString());
        }

        Span<byte> buffer = stackalloc byte[MaxResponseLength];
        var writer = new StunMessageWriter(buffer, request.Type.SuccessResponse, request.TransactionId);
        Finish(ref context, writer, authenticated: true);
    }

    // RFC 8656 §11.2: a Send indication. Every failure is a silent discard (indications get no answer).
    private void HandleSend(in FiveTuple fiveTuple, StunMessage message)
    {
        if (!_allocations.TryGetValue(fiveTuple, out Allocation? allocation))
        {
            return;
        }

        if (!message.TryGetXorAddress(StunAttributeType.XorPeerAddress, out TransportAddress peer) || !message.TryGetData(out ReadOnlySpan<byte> data))
        {
            Log.PacketDropped(_logger, allocation.Id, message.Bytes.Length, "peer", "malformed Send indication");
            return;
        }

        SendToPeer(allocation, peer, data);
    }

    // RFC 8656 §12.6: ChannelData from the client goes to the bound peer, or is discarded.
    private void HandleChannelData(in FiveTuple fiveTuple, ReadOnlySpan<byte> packet)
    {
        if (!ChannelData.TryRead(packet, out ChannelData channelData).IsComplete
            || !_allocations.TryGetValue(fiveTuple, out Allocation? allocation))
        {
            return;
        }

        TransportAddress peer;
        lock (allocation.Gate)
        {
            ChannelBinding? binding = allocation.ChannelByNumber(channelData.ChannelNumber, Now);
            if (binding is null)
            {
                Log.PacketDropped(_logger, allocation.Id, packet.Length, "peer", "channel not bound");
                return;
            }

            peer = binding.Peer;
        }

        SendToPeer(allocation, peer, channelData.Data);
    }

    private void SendToPeer(Allocation allocation, in TransportAddress peer, ReadOnlySpan<byte> data)
    {
        long now = Now;
        RelayEndpoint? relay = allocation.RelayFor(peer.Family);
        bool allowed;
        lock (allocation.Gate)
        {
            allowed = !allocation.IsDeleted && relay is not null && allocation.HasPermission(peer, now)
                && allocation.TryTakeToPeer(data.Length, now, _time.TimestampFrequency);
        }

        // The policy is checked again per packet (the port of the server's own relay addresses, defence in depth).
        if (!allowed || !Policy.IsAllowedDestination(peer))
        {
            Log.PacketDropped(_logger, allocation.Id, data.Length, "peer", "no permission, policy or bandwidth");
            return;
        }

        relay!.Socket.SendTo(data, peer);
        _counters.RelayedToPeer(data.Length);
        Log.PacketRelayed(_logger, allocation.Id, data.Length, "to peer");
    }

    /// <summary>
    /// RFC 8656 §11.3 and §12.7: a datagram from a peer at the relayed address. Without a permission it is discarded;
    /// with a channel bound to the peer it goes as ChannelData (padded on streams), else as a Data indication.
    /// </summary>
    internal void RelayFromPeer(Allocation allocation, ReadOnlySpan<byte> data, in TransportAddress peer)
    {
        long now = Now;
        ushort channel = 0;
        bool allowed;
        lock (allocation.Gate)
        {
            allowed = !allocation.IsDeleted && allocation.HasPermission(peer, now)
                && allocation.TryTakeToClient(data.Length, now, _time.TimestampFrequency);
            if (allowed && allocation.ChannelByPeer(peer, now) is { } binding)
            {
                channel = binding.Number;
            }
        }

        if (!allowed)
        {
            Log.PacketDropped(_logger, allocation.Id, data.Length, "client", "no permission or bandwidth");
            return;
        }

        bool stream = allocation.Client.Protocol != TurnTransportProtocol.Udp;
        byte[] rented = ArrayPool<byte>.Shared.Rent(data.Length + 64);
        try
        {
            int length;
            if (channel != 0)
            {
                ChannelData.TryWrite(rented, channel, data, padToFourBytes: stream, out length);
            }
            else
            {
                var writer = new StunMessageWriter(rented, StunMessageType.DataIndication, StunTransactionId.NewRandom());
                writer.WriteXorAddress(StunAttributeType.XorPeerAddress, peer);
                writer.WriteData(data);
                length = writer.HasOverflowed ? 0 : writer.Length;
            }

            if (length > 0)
            {
                allocation.Client.Send(rented.AsSpan(0, length), allocation.FiveTuple.Client);
                _counters.RelayedToClient(data.Length);
                Log.PacketRelayed(_logger, allocation.Id, data.Length, "to client");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // 403 for a peer the policy refuses (checked first: a refused address is refused whatever the allocation), 443 for
    // a family the allocation does not relay, else 0.
    private int CheckPeer(Allocation allocation, in TransportAddress peer, bool perPacket)
    {
        if (perPacket ? !Policy.IsAllowedDestination(peer) : !Policy.IsAllowedPeer(peer))
        {
            Log.PeerDenied(_logger, allocation.Id, peer.ToString());
            return StunErrorCode.Forbidden;
        }

        if (allocation.RelayFor(peer.Family) is null)
        {
            return StunErrorCode.PeerAddressFamilyMismatch;
        }

        return 0;
    }

    // RFC 8656 §7.2/§8.2: min(requested, maximum), but not below the default; 0 only for Refresh (deletion).
    private uint DesiredLifetime(StunMessage request, bool allowZero)
    {
        uint defaultSeconds = (uint)_options.DefaultAllocationLifetime.TotalSeconds;
        uint maxSeconds = (uint)_options.MaxAllocationLifetime.TotalSeconds;
        if (!request.TryGetLifetime(out uint requested))
        {
            return defaultSeconds;
        }

        if (requested == 0 && allowZero)
        {
            return 0;
        }

        return Math.Max(defaultSeconds, Math.Min(requested, maxSeconds));
    }

    private uint RemainingSeconds(Allocation allocation)
    {
        long remaining = allocation.ExpiresAt - Now;
        return remaining <= 0 ? 0 : (uint)Math.Ceiling((double)remaining / _time.TimestampFrequency);
    }

    private bool HasRelayAddress(StunAddressFamily family) => Array.Exists(_relayAddresses, a => a.Family == family);

    private TransportAddress Advertise(in TransportAddress bound)
    {
        foreach (TransportAddress external in _externalAddresses)
        {
            if (external.Family == bound.Family)
            {
                return external.WithPort(bound.Port);
            }
        }

        return bound;
    }

    private bool TryReserveQuota(string userId, long allocationId)
    {
        lock (_gate)
        {
            _allocationsPerUser.TryGetValue(userId, out int mine);
            string? reason = _allocationCount >= _options.MaxAllocations ? "server total"
                : mine >= _options.MaxAllocationsPerUser ? "per user" : null;
            if (reason is not null)
            {
                Log.QuotaReached(_logger, userId, reason, allocationId);
                return false;
            }

            _allocationsPerUser[userId] = mine + 1;
            _allocationCount++;
            return true;
        }
    }

    private void ReleaseQuota(string userId)
    {
        lock (_gate)
        {
            if (_allocationsPerUser.TryGetValue(userId, out int mine))
            {
                if (mine <= 1)
                {
                    _allocationsPerUser.Remove(userId);
                }
                else
                {
                    _allocationsPerUser[userId] = mine - 1;
                }
            }

            _allocationCount--;
        }
    }

    // Random ports of the range (RFC 8656 §7.2 recommends randomised ports), even when EVEN-PORT asks; with its R bit the
    // next port is bound too and kept for 30 s under a new RESERVATION-TOKEN.
    private IRelaySocket? BindRelay(StunAddressFamily family, bool even, bool reserveNext, out byte[]? token, long allocationId)
    {
        token = null;
        TransportAddress address = Array.Find(_relayAddresses, a => a.Family == family);
        int min = _options.MinRelayPort, max = _options.MaxRelayPort;
        int span = max - min + 1;
        int start = RandomNumberGenerator.GetInt32(span);
        int attempts = Math.Min(span, MaxPortAttempts);
        for (int i = 0; i < span && attempts > 0; i++)
        {
            int port = min + ((start + i) % span);
            if (even && ((port & 1) != 0 || (reserveNext && port + 1 > max)))
            {
                continue;
            }

            attempts--;
            if (!_relaySockets.TryBind(address.WithPort((ushort)port), out IRelaySocket? socket) || socket is null)
            {
                continue;
            }

            if (!reserveNext)
            {
                return socket;
            }

            if (_relaySockets.TryBind(address.WithPort((ushort)(port + 1)), out IRelaySocket? next) && next is not null)
            {
                token = RandomNumberGenerator.GetBytes(8);
                lock (_gate)
                {
                    _reservations[BitConverter.ToUInt64(token)] = new Reservation(next, AfterSeconds(ReservationLifetimeSeconds));
                }

                return socket;
            }

            socket.Dispose();
        }

        Log.NoRelayPort(_logger, family.ToString(), min, max, allocationId);
        return null;
    }

    private IRelaySocket? TakeReservation(ReadOnlySpan<byte> token)
    {
        lock (_gate)
        {
            ulong key = BitConverter.ToUInt64(token);
            if (_reservations.Remove(key, out Reservation? reservation))
            {
                if (reservation.ExpiresAt > Now)
                {
                    return reservation.Socket;
                }

                reservation.Socket.Dispose();
            }

            return null;
        }
    }

    private void Delete(Allocation allocation, string reason)
    {
        lock (allocation.Gate)
        {
            if (allocation.IsDeleted)
            {
                return;
            }

            allocation.IsDeleted = true;
        }

        _allocations.TryRemove(new KeyValuePair<FiveTuple, Allocation>(allocation.FiveTuple, allocation));
        foreach (RelayEndpoint relay in allocation.Relays)
        {
            relay.Socket.Dispose();
        }

        ReleaseQuota(allocation.UserId);
        Log.AllocationDeleted(_logger, allocation.Id, reason);
    }

    /// <summary>Removes what expired: allocations (RFC 8656 §5), permissions (§9), channel bindings (§12), reservations.</summary>
    internal void Sweep()
    {
        long now = Now;
        foreach (Allocation allocation in _allocations.Values)
        {
            bool expired;
            lock (allocation.Gate)
            {
                expired = allocation.ExpiresAt <= now;
                if (!expired)
                {
                    allocation.RemoveExpired(now);
                }
            }

            if (expired)
            {
                Delete(allocation, "lifetime expired");
            }
        }

        lock (_gate)
        {
            List<ulong>? expiredTokens = null;
            foreach (KeyValuePair<ulong, Reservation> pair in _reservations)
            {
                if (pair.Value.ExpiresAt <= now)
                {
                    (expiredTokens ??= []).Add(pair.Key);
                }
            }

            foreach (ulong token in expiredTokens ?? [])
            {
                _reservations.Remove(token, out Reservation? reservation);
                reservation?.Socket.Dispose();
            }
        }

        _failedAuth.Sweep();
    }

    internal Allocation? FindAllocation(in FiveTuple fiveTuple) => _allocations.TryGetValue(fiveTuple, out Allocation? a) ? a : null;

    private static TransportAddress ParseAddress(string text) => TransportAddress.FromIPEndPoint(new IPEndPoint(IPAddress.Parse(text), 0));
}
