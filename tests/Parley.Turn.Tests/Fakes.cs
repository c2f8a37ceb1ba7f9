using Microsoft.Extensions.Options;
using Parley.Stun;
using Parley.TestCommon;

namespace Parley.Turn.Tests;

/// <summary>A listener or connection in memory: records what the server sends (or only counts, for the allocation test).</summary>
public sealed class FakeClientTransport(TurnTransportProtocol protocol, TransportAddress local) : ITurnClientTransport
{
    public TurnTransportProtocol Protocol => protocol;

    public TransportAddress LocalAddress => local;

    public List<(TransportAddress To, byte[] Packet)> Sent { get; } = [];

    public bool CountOnly { get; set; }

    public long Count { get; private set; }

    public void Send(ReadOnlySpan<byte> packet, in TransportAddress client)
    {
        Count++;
        if (!CountOnly)
        {
            Sent.Add((client, packet.ToArray()));
        }
    }

    public List<byte[]> Take()
    {
        List<byte[]> packets = [.. Sent.Select(s => s.Packet)];
        Sent.Clear();
        return packets;
    }
}

public sealed class FakeRelaySocket(TransportAddress local, FakeRelaySocketFactory owner) : IRelaySocket
{
    public TransportAddress LocalAddress => local;

    public IRelayReceiver? Receiver { get; private set; }

    public List<(TransportAddress Peer, byte[] Data)> Sent { get; } = [];

    public bool CountOnly { get; set; }

    public long Count { get; private set; }

    public bool Disposed { get; private set; }

    public void SendTo(ReadOnlySpan<byte> data, in TransportAddress peer)
    {
        Count++;
        if (!CountOnly)
        {
            Sent.Add((peer, data.ToArray()));
        }
    }

    public void Start(IRelayReceiver receiver) => Receiver = receiver;

    /// <summary>A datagram from <paramref name="peer"/> arrives at this relayed address.</summary>
    public void Receive(TransportAddress peer, byte[] data) => Receiver!.OnPeerPacket(data, peer);

    public void Dispose()
    {
        Disposed = true;
        owner.Release(local);
    }
}

/// <summary>Relay sockets in memory; a port can be bound once; <see cref="Full"/> makes every bind fail (508).</summary>
public sealed class FakeRelaySocketFactory : IRelaySocketFactory
{
    private readonly HashSet<TransportAddress> _bound = [];

    public List<FakeRelaySocket> Sockets { get; } = [];

    public bool Full { get; set; }

    public bool TryBind(TransportAddress address, out IRelaySocket? socket)
    {
        socket = null;
        lock (_bound)
        {
            if (Full || !_bound.Add(address))
            {
                return false;
            }
        }

        var fake = new FakeRelaySocket(address, this);
        Sockets.Add(fake);
        socket = fake;
        return true;
    }

    public void Release(TransportAddress address)
    {
        lock (_bound)
        {
            _bound.Remove(address);
        }
    }

    public FakeRelaySocket At(TransportAddress relayed) => Sockets.Last(s => s.LocalAddress == relayed);
}

/// <summary>A TURN server over fakes and a manual clock, with helpers that speak the protocol.</summary>
public sealed class Harness : IDisposable
{
    public const string Secret = "test-secret-0123456789";
    public const string Realm = "parley.test";

    public static readonly TransportAddress ServerUdp = TurnMessages.Address("198.51.100.1", 3478);
    public static readonly TransportAddress PublicPeer = TurnMessages.Address("93.184.216.34", 40000);
    public static readonly TransportAddress PublicPeerV6 = TurnMessages.Address("2606:4700::1111", 40000);

    public Harness(Action<TurnOptions>? configure = null)
    {
        Options = new TurnOptions
        {
            Realm = Realm,
            SharedSecrets = [Secret],
            ListenAddresses = ["198.51.100.1"],
            RelayAddresses = ["198.51.100.2", "2001:db8::2"],
            MinRelayPort = 50000,
            MaxRelayPort = 50099,
        };
        configure?.Invoke(Options);
        Server = new TurnServer(Microsoft.Extensions.Options.Options.Create(Options), Relays, Time);
        Udp = new FakeClientTransport(TurnTransportProtocol.Udp, ServerUdp);
    }

    public TurnOptions Options { get; }

    public ManualTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));

    public FakeRelaySocketFactory Relays { get; } = new();

    public TurnServer Server { get; }

    public FakeClientTransport Udp { get; }

    public ClientCredentials Credentials(string userId = "alice", TimeSpan? lifetime = null, string secret = Secret)
    {
        TurnCredential credential = TurnCredentials.Create(secret, userId, lifetime ?? TimeSpan.FromHours(1), Time);
        return new ClientCredentials(credential.Username, credential.Password, Realm);
    }

    /// <summary>Sends one packet and returns the single response, or null when the server stayed silent.</summary>
    public TurnResponse? Exchange(TransportAddress client, byte[] request, FakeClientTransport? transport = null)
    {
        transport ??= Udp;
        transport.Sent.Clear();
        Server.OnClientPacket(transport, client, request);
        List<byte[]> sent = transport.Take();
        Assert.True(sent.Count <= 1, $"expected at most one response, got {sent.Count}");
        return sent.Count == 0 ? null : new TurnResponse(sent[0]);
    }

    /// <summary>Sends an authenticated request, fetching a nonce first if the client has none or it went stale.</summary>
    public TurnResponse Request(TransportAddress client, ClientCredentials credentials, Func<ClientCredentials, byte[]> build,
        FakeClientTransport? transport = null)
    {
        for (int attempt = 0; attempt < 3; attempt++)
        {
            TurnResponse? response = Exchange(client, build(credentials), transport);
            Assert.NotNull(response);
            // The first 401 (no credentials sent yet) and every 438 with a new nonce are answered; a 401 to
            // credentials is final.
            if ((response.ErrorCode == 438 || (response.ErrorCode == 401 && credentials.Nonce.Length == 0))
                && response.Nonce is { } nonce && !nonce.SequenceEqual(credentials.Nonce))
            {
                credentials.Accept(response);
                continue;
            }

            return response;
        }

        throw new InvalidOperationException("no answer after three attempts");
    }

    /// <summary>Allocates for <paramref name="client"/>: the 401 challenge, then the authenticated Allocate.</summary>
    public TurnResponse Allocate(TransportAddress client, ClientCredentials credentials, AttributeWriter? extra = null,
        FakeClientTransport? transport = null) =>
        Request(client, credentials, c => TurnMessages.NextAllocate(c, extra), transport);

    /// <summary>An allocation ready to use; returns its credentials and IPv4 relay socket.</summary>
    public (ClientCredentials Credentials, FakeRelaySocket Relay) Allocated(TransportAddress client, string userId = "alice",
        FakeClientTransport? transport = null)
    {
        ClientCredentials credentials = Credentials(userId);
        TurnResponse response = Allocate(client, credentials, transport: transport);
        Assert.Equal(StunClass.SuccessResponse, response.Class);
        return (credentials, Relays.At(response.Relayed[0]));
    }

    public void Advance(TimeSpan by) => Time.Advance(by);

    public void Dispose() => Server.Dispose();
}
