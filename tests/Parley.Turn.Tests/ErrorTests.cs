using Parley.Stun;

namespace Parley.Turn.Tests;

/// <summary>The error responses of RFC 8489 and RFC 8656, each where it applies.</summary>
public sealed class ErrorTests : IDisposable
{
    private static readonly TransportAddress s_client = TurnMessages.Address("192.0.2.10", 50123);
    private readonly Harness _turn = new();

    public void Dispose() => _turn.Dispose();

    [Fact]
    public void Wrong_password_is_401_without_integrity()
    {
        ClientCredentials wrong = _turn.Credentials() with { Password = "not-the-password" };
        TurnResponse response = _turn.Allocate(s_client, wrong);

        Assert.Equal(401, response.ErrorCode);
        Assert.False(response.HasIntegrity);
        Assert.NotNull(response.Nonce);
        Assert.Equal(0, _turn.Server.AllocationCount);
    }

    [Fact]
    public void A_credential_minted_with_an_unknown_secret_is_401_and_any_configured_secret_works()
    {
        using var rotating = new Harness(o => o.SharedSecrets = ["new-secret-0123456789", Harness.Secret]);

        Assert.Equal(401, rotating.Allocate(s_client, rotating.Credentials(secret: "other-secret-0123456789")).ErrorCode);
        Assert.Equal(StunClass.SuccessResponse, rotating.Allocate(s_client, rotating.Credentials("a", secret: Harness.Secret)).Class);
        Assert.Equal(StunClass.SuccessResponse,
            rotating.Allocate(TurnMessages.Address("192.0.2.10", 1), rotating.Credentials("b", secret: "new-secret-0123456789")).Class);
    }

    [Fact]
    public void Expired_username_is_401()
    {
        ClientCredentials expired = _turn.Credentials(lifetime: TimeSpan.FromSeconds(-1));

        Assert.Equal(401, _turn.Allocate(s_client, expired).ErrorCode);
    }

    [Theory]
    [InlineData(false, 401)]
    [InlineData(true, 200)]
    public void An_expired_username_refreshes_an_existing_allocation_only_when_allowed(bool allow, int expected)
    {
        using var turn = new Harness(o => o.AllowExpiredRefresh = allow);
        ClientCredentials credentials = turn.Credentials(lifetime: TimeSpan.FromSeconds(60));
        Assert.Equal(StunClass.SuccessResponse, turn.Allocate(s_client, credentials).Class);

        turn.Advance(TimeSpan.FromSeconds(120));
        TurnResponse refresh = turn.Request(s_client, credentials, c => TurnMessages.Refresh(c, 600));

        Assert.Equal(expected, refresh.ErrorCode ?? 200);
    }

    [Fact]
    public void A_nonce_past_its_lifetime_is_438_with_a_fresh_nonce()
    {
        using var turn = new Harness(o => o.NonceLifetime = TimeSpan.FromMinutes(1));
        (ClientCredentials credentials, _) = turn.Allocated(s_client);
        byte[] oldNonce = credentials.Nonce;

        turn.Advance(TimeSpan.FromSeconds(59));
        Assert.Equal(StunClass.SuccessResponse, turn.Exchange(s_client, TurnMessages.Refresh(credentials, 600))!.Class);
        turn.Advance(TimeSpan.FromSeconds(1));
        TurnResponse? stale = turn.Exchange(s_client, TurnMessages.Refresh(credentials, 600));

        Assert.Equal(438, stale?.ErrorCode);
        Assert.Equal(Harness.Realm, stale!.Realm);
        Assert.NotEqual(oldNonce, stale.Nonce);
        credentials.Nonce = stale.Nonce!;
        Assert.Equal(StunClass.SuccessResponse, turn.Exchange(s_client, TurnMessages.Refresh(credentials, 600))!.Class);
    }

    [Fact]
    public void A_nonce_issued_to_another_ip_is_438()
    {
        (ClientCredentials credentials, _) = _turn.Allocated(s_client);
        TransportAddress elsewhere = TurnMessages.Address("192.0.2.99", 50123);

        Assert.Equal(438, _turn.Exchange(elsewhere, TurnMessages.Allocate(credentials))?.ErrorCode);
    }

    [Fact]
    public void Integrity_without_username_realm_or_nonce_is_400()
    {
        byte[] request = TurnMessages.Build(StunMessageType.AllocateRequest, (ref StunMessageWriter w) =>
        {
            w.WriteRequestedTransport(17);
            w.WriteMessageIntegrity(new byte[16]);
        });

        Assert.Equal(400, _turn.Exchange(s_client, request)?.ErrorCode);
    }

    [Fact]
    public void Requests_on_a_5_tuple_without_allocation_are_437()
    {
        ClientCredentials credentials = _turn.Credentials();
        _turn.Exchange(s_client, TurnMessages.Allocate(null)); // fetch nonce
        credentials.Nonce = _turn.Exchange(s_client, TurnMessages.Allocate(null))!.Nonce!;

        Assert.Equal(437, _turn.Exchange(s_client, TurnMessages.Refresh(credentials, 600))?.ErrorCode);
        Assert.Equal(437, _turn.Exchange(s_client, TurnMessages.CreatePermission(credentials, Harness.PublicPeer))?.ErrorCode);
        Assert.Equal(437, _turn.Exchange(s_client, TurnMessages.ChannelBind(credentials, 0x4000, Harness.PublicPeer))?.ErrorCode);
    }

    [Fact]
    public void A_second_allocate_on_the_same_5_tuple_is_437_but_a_retransmission_is_answered_again()
    {
        ClientCredentials credentials = _turn.Credentials();
        _turn.Allocate(s_client, credentials);
        StunTransactionId id = StunTransactionId.NewRandom();
        _turn.Request(s_client, credentials, c => TurnMessages.Refresh(c, 0)); // start clean
        TurnResponse first = _turn.Exchange(s_client, TurnMessages.Allocate(credentials, id))!;
        Assert.Equal(StunClass.SuccessResponse, first.Class);

        TurnResponse retransmission = _turn.Exchange(s_client, TurnMessages.Allocate(credentials, id))!;
        Assert.Equal(StunClass.SuccessResponse, retransmission.Class);
        Assert.Equal(first.Relayed, retransmission.Relayed);

        Assert.Equal(437, _turn.Exchange(s_client, TurnMessages.Allocate(credentials))?.ErrorCode);
        Assert.Equal(1, _turn.Server.AllocationCount);
    }

    [Fact]
    public void A_request_on_an_allocation_with_another_username_is_441()
    {
        (ClientCredentials alice, _) = _turn.Allocated(s_client);
        ClientCredentials bob = _turn.Credentials("bob");
        bob.Nonce = alice.Nonce;

        TurnResponse response = _turn.Exchange(s_client, TurnMessages.CreatePermission(bob, Harness.PublicPeer))!;

        Assert.Equal(441, response.ErrorCode);
    }

    [Fact]
    public void Requested_transport_other_than_udp_is_442_and_missing_is_400()
    {
        ClientCredentials credentials = _turn.Credentials();
        credentials.Nonce = _turn.Exchange(s_client, TurnMessages.Allocate(null))!.Nonce!;

        Assert.Equal(442, _turn.Exchange(s_client, TurnMessages.Allocate(credentials, transport: 6))?.ErrorCode);
        Assert.Equal(400, _turn.Exchange(s_client, TurnMessages.Build(StunMessageType.AllocateRequest, null, credentials))?.ErrorCode);
    }

    [Fact]
    public void Unknown_comprehension_required_attributes_are_420_with_unknown_attributes()
    {
        ClientCredentials credentials = _turn.Credentials();
        credentials.Nonce = _turn.Exchange(s_client, TurnMessages.Allocate(null))!.Nonce!;

        TurnResponse response = _turn.Exchange(s_client, TurnMessages.Allocate(credentials,
            extra: (ref StunMessageWriter w) => w.WriteAttribute((StunAttributeType)0x7777, [1, 2, 3, 4])))!;

        Assert.Equal(420, response.ErrorCode);
        Assert.Equal([(StunAttributeType)0x7777], response.UnknownAttributes);
        Assert.True(response.VerifiesWith(credentials.Key));
    }

    [Fact]
    public void Dont_fragment_is_not_supported_and_answered_420()
    {
        TurnResponse response = _turn.Allocate(s_client, _turn.Credentials(), (ref StunMessageWriter w) => w.WriteDontFragment());

        Assert.Equal(420, response.ErrorCode);
        Assert.Equal([StunAttributeType.DontFragment], response.UnknownAttributes);
    }

    [Fact]
    public void An_address_family_without_a_relay_address_is_440()
    {
        using var ipv4Only = new Harness(o => o.RelayAddresses = ["198.51.100.2"]);

        TurnResponse response = ipv4Only.Allocate(s_client, ipv4Only.Credentials(),
            (ref StunMessageWriter w) => w.WriteRequestedAddressFamily(StunAddressFamily.IPv6));

        Assert.Equal(440, response.ErrorCode);
    }

    [Fact]
    public void Dual_allocation_without_an_ipv6_relay_address_succeeds_for_ipv4_and_reports_the_ipv6_failure()
    {
        using var ipv4Only = new Harness(o => o.RelayAddresses = ["198.51.100.2"]);

        TurnResponse response = ipv4Only.Allocate(s_client, ipv4Only.Credentials(),
            (ref StunMessageWriter w) => w.WriteAdditionalAddressFamily(StunAddressFamily.IPv6));

        Assert.Equal(StunClass.SuccessResponse, response.Class);
        Assert.Single(response.Relayed);
        Assert.True(response.Message.TryGetAddressErrorCode(out StunAddressFamily family, out int code, out _));
        Assert.Equal((StunAddressFamily.IPv6, 508), (family, code));
    }

    [Fact]
    public void A_peer_of_a_family_the_allocation_does_not_relay_is_443()
    {
        (ClientCredentials credentials, _) = _turn.Allocated(s_client);

        Assert.Equal(443, _turn.Request(s_client, credentials, c => TurnMessages.CreatePermission(c, Harness.PublicPeerV6)).ErrorCode);
    }

    [Fact]
    public void Allocations_beyond_the_per_user_quota_or_the_total_are_486()
    {
        using var turn = new Harness(o =>
        {
            o.MaxAllocationsPerUser = 2;
            o.MaxAllocations = 3;
        });
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(StunClass.SuccessResponse, turn.Allocate(TurnMessages.Address("192.0.2.10", 1000 + i), turn.Credentials("alice")).Class);
        }

        Assert.Equal(486, turn.Allocate(TurnMessages.Address("192.0.2.10", 1002), turn.Credentials("alice")).ErrorCode);
        Assert.Equal(StunClass.SuccessResponse, turn.Allocate(TurnMessages.Address("192.0.2.10", 1003), turn.Credentials("bob")).Class);
        Assert.Equal(486, turn.Allocate(TurnMessages.Address("192.0.2.10", 1004), turn.Credentials("carol")).ErrorCode);
    }

    [Fact]
    public void Quota_is_released_when_an_allocation_is_deleted()
    {
        using var turn = new Harness(o => o.MaxAllocationsPerUser = 1);
        ClientCredentials credentials = turn.Credentials();
        turn.Allocate(s_client, credentials);
        turn.Request(s_client, credentials, c => TurnMessages.Refresh(c, 0));

        Assert.Equal(StunClass.SuccessResponse, turn.Allocate(TurnMessages.Address("192.0.2.10", 2), turn.Credentials()).Class);
    }

    [Fact]
    public void No_free_relay_port_is_508()
    {
        _turn.Relays.Full = true;

        Assert.Equal(508, _turn.Allocate(s_client, _turn.Credentials()).ErrorCode);
        Assert.Equal(0, _turn.Server.AllocationCount);
    }

    [Theory]
    [InlineData(0x3FFF)]
    [InlineData(0x5000)]
    public void Channel_numbers_outside_0x4000_0x4FFF_are_400(int channel)
    {
        (ClientCredentials credentials, _) = _turn.Allocated(s_client);

        Assert.Equal(400, _turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, (ushort)channel, Harness.PublicPeer)).ErrorCode);
    }

    [Fact]
    public void Rebinding_a_channel_to_another_peer_or_a_peer_to_another_channel_is_400_but_refreshing_is_fine()
    {
        (ClientCredentials credentials, _) = _turn.Allocated(s_client);
        Assert.Null(_turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4000, Harness.PublicPeer)).ErrorCode);

        Assert.Null(_turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4000, Harness.PublicPeer)).ErrorCode);
        Assert.Equal(400, _turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4000, Harness.PublicPeer.WithPort(1))).ErrorCode);
        Assert.Equal(400, _turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4001, Harness.PublicPeer)).ErrorCode);
    }

    [Fact]
    public void Create_permission_without_peer_address_is_400()
    {
        (ClientCredentials credentials, _) = _turn.Allocated(s_client);

        Assert.Equal(400, _turn.Request(s_client, credentials, c => TurnMessages.CreatePermission(c)).ErrorCode);
    }
}
