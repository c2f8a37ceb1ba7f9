using Parley.Stun;

namespace Parley.Turn.Tests;

/// <summary>Secure defaults: the relay policy (incl. IPv4 embedded in IPv6), no amplification, failed-auth limits, bandwidth.</summary>
public sealed class SecurityTests : IDisposable
{
    private static readonly TransportAddress s_client = TurnMessages.Address("192.0.2.10", 50123);
    private readonly Harness _turn = new();

    public void Dispose() => _turn.Dispose();

    public static TheoryData<string> DeniedPeers => new()
    {
        "127.0.0.1", "127.1.2.3", "::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::127.0.0.1", "2002:7f00:1::1",
        "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo whose client is 127.0.0.1
        "::1", "::", "0.0.0.0", "10.1.2.3", "::ffff:10.1.2.3", "172.16.0.1", "192.168.1.1", "::ffff:192.168.1.1",
        "100.64.0.1", "169.254.1.1", "::ffff:169.254.169.254", "224.0.0.1", "239.255.255.250", "255.255.255.255",
        "240.0.0.1", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1", "2001:db8::1", "198.18.0.1",
        "198.51.100.1", // the server's own listening address (also TEST-NET-2)
    };

    [Theory]
    [MemberData(nameof(DeniedPeers))]
    public void The_default_policy_refuses_special_addresses(string ip)
    {
        Assert.False(_turn.Server.Policy.IsAllowedPeer(TurnMessages.Address(ip, 9)));
        Assert.False(_turn.Server.Policy.IsAllowedDestination(TurnMessages.Address(ip, 9)));
    }

    [Theory]
    [InlineData("93.184.216.34")]
    [InlineData("::ffff:93.184.216.34")]
    [InlineData("2606:4700::1111")]
    [InlineData("64:ff9b::93.184.216.34")]
    public void The_default_policy_allows_public_addresses(string ip) =>
        Assert.True(_turn.Server.Policy.IsAllowedDestination(TurnMessages.Address(ip, 9)));

    [Fact]
    public void Embedded_ipv4_is_extracted_from_every_ipv6_form()
    {
        TransportAddress loopback = TurnMessages.Address("127.0.0.1", 7);
        foreach (string ip in new[] { "::ffff:127.0.0.1", "::127.0.0.1", "64:ff9b::7f00:1", "2002:7f00:0001::", "2001:0:0:0:0:0:80ff:fffe" })
        {
            Assert.Equal(loopback, RelayPolicy.Canonical(TurnMessages.Address(ip, 7)));
        }
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::ffff:127.0.0.1")]
    public void Create_permission_and_channel_bind_to_loopback_in_any_form_are_403_without_an_allow_list(string ip)
    {
        TurnResponse allocate = _turn.Allocate(s_client, _turn.Credentials(),
            (ref StunMessageWriter w) => w.WriteAdditionalAddressFamily(StunAddressFamily.IPv6));
        Assert.Equal(2, allocate.Relayed.Count);
        ClientCredentials credentials = _turn.Credentials();
        credentials.Nonce = allocate.Nonce ?? _turn.Exchange(s_client, TurnMessages.Allocate(null))!.Nonce!;
        TransportAddress peer = TurnMessages.Address(ip, 9000);

        Assert.Equal(403, _turn.Request(s_client, credentials, c => TurnMessages.CreatePermission(c, peer)).ErrorCode);
        Assert.Equal(403, _turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4000, peer)).ErrorCode);
        // All or nothing: an allowed peer next to a refused one is not installed either.
        Assert.Equal(403, _turn.Request(s_client, credentials, c => TurnMessages.CreatePermission(c, Harness.PublicPeer, peer)).ErrorCode);
        _turn.Relays.At(allocate.Relayed[0]).Receive(Harness.PublicPeer, [1]);
        Assert.Empty(_turn.Udp.Sent);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::ffff:127.0.0.1")]
    public void Send_to_loopback_in_any_form_is_dropped(string ip)
    {
        TurnResponse allocate = _turn.Allocate(s_client, _turn.Credentials(),
            (ref StunMessageWriter w) => w.WriteAdditionalAddressFamily(StunAddressFamily.IPv6));

        _turn.Server.OnClientPacket(_turn.Udp, s_client, TurnMessages.Send(TurnMessages.Address(ip, 9000), [1, 2, 3]));

        Assert.All(allocate.Relayed, relayed => Assert.Empty(_turn.Relays.At(relayed).Sent));
    }

    [Fact]
    public void An_allow_list_admits_what_it_names_and_nothing_else()
    {
        using var turn = new Harness(o => o.AllowedPeerRanges = ["127.0.0.1/32", "10.0.0.0/8"]);
        RelayPolicy policy = turn.Server.Policy;

        Assert.True(policy.IsAllowedDestination(TurnMessages.Address("127.0.0.1", 5)));
        Assert.True(policy.IsAllowedDestination(TurnMessages.Address("10.9.8.7", 5)));
        Assert.False(policy.IsAllowedDestination(TurnMessages.Address("127.0.0.2", 5)));
        Assert.False(policy.IsAllowedDestination(TurnMessages.Address("192.168.0.1", 5)));
        Assert.False(policy.IsAllowedDestination(TurnMessages.Address("::1", 5)));
    }

    [Fact]
    public void The_servers_relay_address_is_allowed_only_on_relay_ports()
    {
        using var turn = new Harness(o =>
        {
            o.RelayAddresses = ["93.184.216.1"];
            o.ExternalAddresses = [];
        });
        RelayPolicy policy = turn.Server.Policy;

        Assert.True(policy.IsAllowedPeer(TurnMessages.Address("93.184.216.1", 0)));
        Assert.True(policy.IsAllowedDestination(TurnMessages.Address("93.184.216.1", 50010)));
        Assert.False(policy.IsAllowedDestination(TurnMessages.Address("93.184.216.1", 22)));
    }

    [Fact]
    public void The_unauthenticated_401_is_never_larger_than_the_request_beyond_the_floor()
    {
        using var strict = new Harness(o => o.UnauthenticatedResponseFloor = 0);

        // 28 bytes: no 401 with REALM and NONCE fits, so the strict server says nothing.
        byte[] small = TurnMessages.Allocate(null);
        Assert.Equal(28, small.Length);
        Assert.Null(strict.Exchange(s_client, small));
        Assert.Null(strict.Exchange(s_client, TurnMessages.Binding()));

        // A larger request (SOFTWARE) gets a 401 no larger than itself.
        byte[] larger = TurnMessages.Allocate(null, extra: (ref StunMessageWriter w) => w.WriteText(StunAttributeType.Software, "a client with a long name 1.0"));
        TurnResponse? response = strict.Exchange(s_client, larger);
        Assert.Equal(401, response?.ErrorCode);
        Assert.InRange(response!.Bytes.Length, 0, larger.Length);

        // Default floor: the small request is answered, within the floor.
        TurnResponse? answered = _turn.Exchange(s_client, small);
        Assert.InRange(answered!.Bytes.Length, 0, _turn.Options.UnauthenticatedResponseFloor);
    }

    [Fact]
    public void Over_tcp_the_challenge_is_not_limited()
    {
        using var strict = new Harness(o => o.UnauthenticatedResponseFloor = 0);
        var tcp = new FakeClientTransport(TurnTransportProtocol.Tcp, Harness.ServerUdp);

        Assert.Equal(401, strict.Exchange(s_client, TurnMessages.Allocate(null), tcp)?.ErrorCode);
    }

    [Fact]
    public void After_too_many_failures_an_ip_is_ignored_for_the_rest_of_the_window()
    {
        using var turn = new Harness(o =>
        {
            o.FailedAuthLimit = 3;
            o.FailedAuthWindow = TimeSpan.FromMinutes(1);
        });
        ClientCredentials wrong = turn.Credentials() with { Password = "guess" };
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(401, turn.Allocate(TurnMessages.Address("192.0.2.10", 1000 + i), wrong).ErrorCode);
        }

        // Blocked: silence, even for good credentials and from another port of the same IP.
        ClientCredentials good = turn.Credentials();
        good.Nonce = wrong.Nonce;
        Assert.Null(turn.Exchange(TurnMessages.Address("192.0.2.10", 2000), TurnMessages.Allocate(good)));
        Assert.Null(turn.Exchange(TurnMessages.Address("192.0.2.10", 2000), TurnMessages.Allocate(null)));

        // Other IPs are unaffected, and the IP is forgiven when the window ends.
        Assert.Equal(StunClass.SuccessResponse, turn.Allocate(TurnMessages.Address("192.0.2.77", 1), turn.Credentials()).Class);
        turn.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(StunClass.SuccessResponse, turn.Allocate(TurnMessages.Address("192.0.2.10", 2000), turn.Credentials()).Class);
    }

    [Fact]
    public void Relayed_bytes_beyond_the_bandwidth_cap_are_dropped()
    {
        using var turn = new Harness(o => o.MaxBandwidthBytesPerSecond = 1000);
        (ClientCredentials credentials, FakeRelaySocket relay) = turn.Allocated(s_client);
        turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4000, Harness.PublicPeer));

        for (int i = 0; i < 5; i++)
        {
            turn.Server.OnClientPacket(turn.Udp, s_client, TurnMessages.ChannelDataMessage(0x4000, new byte[400]));
            relay.Receive(Harness.PublicPeer, new byte[400]);
        }

        Assert.Equal(2, relay.Sent.Count);
        Assert.Equal(2, turn.Udp.Take().Count);

        turn.Advance(TimeSpan.FromSeconds(1));
        turn.Server.OnClientPacket(turn.Udp, s_client, TurnMessages.ChannelDataMessage(0x4000, new byte[400]));
        Assert.Equal(3, relay.Sent.Count);
    }
}
