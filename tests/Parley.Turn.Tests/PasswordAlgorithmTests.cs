using System.Security.Cryptography;
using System.Text;
using Parley.Stun;

namespace Parley.Turn.Tests;

/// <summary>
/// RFC 8489 §9.2 on the server: the nonce cookie with the "Password algorithms" bit, PASSWORD-ALGORITHMS in
/// challenges, SHA-256 keys and MESSAGE-INTEGRITY-SHA256, the bid-down checks of §9.2.4, and MD5 clients unchanged.
/// </summary>
public sealed class PasswordAlgorithmTests : IDisposable
{
    private static readonly TransportAddress s_client = TurnMessages.Address("192.0.2.10", 50123);
    private static readonly byte[] s_offer = [0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]; // SHA-256, then MD5
    private readonly Harness _turn = new();

    public void Dispose() => _turn.Dispose();

    private ClientCredentials Sha256Client(string userId = "alice") => _turn.Credentials(userId) with { PreferSha256 = true };

    // A nonce with the offer: the challenge to a request large enough (see TurnMessages.NextAllocate).
    private TurnResponse OfferingChallenge(ClientCredentials credentials)
    {
        TurnResponse challenge = _turn.Exchange(s_client, TurnMessages.NextAllocate(credentials))!;
        Assert.Equal(401, challenge.ErrorCode);
        credentials.Accept(challenge);
        return challenge;
    }

    [Fact]
    public void A_challenge_carries_the_nonce_cookie_with_the_password_algorithms_bit_and_password_algorithms()
    {
        TurnResponse challenge = OfferingChallenge(Sha256Client());

        string nonce = Encoding.ASCII.GetString(challenge.Nonce!);
        // "obMatJos2", then the 24 feature bits in base64: bit 0 (Password algorithms) only is "AAAB" (erratum 6290).
        Assert.StartsWith("obMatJos2AAAB", nonce, StringComparison.Ordinal);
        Assert.Equal(29, nonce.Length);
        Assert.Equal([StunPasswordAlgorithm.Sha256, StunPasswordAlgorithm.Md5], challenge.PasswordAlgorithmList);
        Assert.Equal(s_offer, challenge.PasswordAlgorithmsValue);
        Assert.False(challenge.HasIntegrity);
        Assert.False(challenge.HasIntegritySha256);
    }

    [Fact]
    public void Over_tcp_even_the_smallest_request_gets_the_offer()
    {
        var tcp = new FakeClientTransport(TurnTransportProtocol.Tcp, Harness.ServerUdp);

        TurnResponse challenge = _turn.Exchange(s_client, TurnMessages.Allocate(null), tcp)!;

        Assert.StartsWith("obMatJos2AAAB", Encoding.ASCII.GetString(challenge.Nonce!), StringComparison.Ordinal);
        Assert.Equal(s_offer, challenge.PasswordAlgorithmsValue);
    }

    [Fact]
    public void Chromiums_28_byte_first_allocate_over_udp_gets_the_challenge_it_always_got()
    {
        byte[] request = TurnMessages.Allocate(null);
        Assert.Equal(28, request.Length);

        TurnResponse challenge = _turn.Exchange(s_client, request)!;

        // No cookie, no PASSWORD-ALGORITHMS: the offer does not fit the 80-byte floor, so the client is held to MD5.
        Assert.Equal(401, challenge.ErrorCode);
        Assert.Equal(NonceService.Length, challenge.Nonce!.Length);
        Assert.False(Encoding.ASCII.GetString(challenge.Nonce).StartsWith("obMatJos2", StringComparison.Ordinal));
        Assert.Null(challenge.PasswordAlgorithmsValue);
        Assert.InRange(challenge.Bytes.Length, 1, _turn.Options.UnauthenticatedResponseFloor);
    }

    [Theory]
    [InlineData("parley", 84, false)] // the default realm: the smallest 401 with the offer is 88 bytes
    [InlineData("parley", 88, true)]
    [InlineData("parley.test", 88, false)] // 4 more realm bytes, 4 more bytes
    [InlineData("parley.test", 92, true)]
    public void Over_udp_the_offer_is_made_when_the_challenge_with_it_fits_the_amplification_limit(string realm, int requestLength, bool offered)
    {
        using var turn = new Harness(o => o.Realm = realm);
        byte[] request = TurnMessages.Allocate(null, extra: (ref StunMessageWriter w) =>
            w.WriteText(StunAttributeType.Software, new string('x', requestLength - 32)));
        Assert.Equal(requestLength, request.Length);

        TurnResponse challenge = turn.Exchange(s_client, request)!;

        Assert.Equal(401, challenge.ErrorCode);
        Assert.Equal(offered, challenge.PasswordAlgorithmsValue is not null);
        Assert.Equal(offered ? NonceService.MaxLength : NonceService.Length, challenge.Nonce!.Length);
        Assert.InRange(challenge.Bytes.Length, 1, Math.Max(requestLength, turn.Options.UnauthenticatedResponseFloor));
    }

    [Fact]
    public void A_truncated_message_integrity_sha256_is_accepted_and_the_response_has_the_full_32_bytes()
    {
        ClientCredentials credentials = Sha256Client();
        OfferingChallenge(credentials);
        var buffer = new byte[512];
        var writer = new StunMessageWriter(buffer, StunMessageType.AllocateRequest, StunTransactionId.NewRandom());
        writer.WriteRequestedTransport(17);
        TurnMessages.WriteCredentials(ref writer, credentials); // SHA-256 chosen from the offer
        int offset = writer.Length;
        Span<byte> value = writer.Reserve(StunAttributeType.MessageIntegritySha256, 16); // §14.6: at least 16 bytes
        HMACSHA256.HashData(credentials.Key, buffer.AsSpan(0, offset)).AsSpan(0, 16).CopyTo(value);

        TurnResponse response = _turn.Exchange(s_client, writer.Written.ToArray())!;

        Assert.Equal(StunClass.SuccessResponse, response.Class);
        int length = 0;
        foreach (StunAttribute attribute in response.Message.EnumerateAll())
        {
            length = attribute.Type == StunAttributeType.MessageIntegritySha256 ? attribute.Value.Length : length;
        }

        Assert.Equal(StunIntegrity.Sha256Length, length);
        Assert.True(response.VerifiesSha256With(credentials.Key));
    }

    [Fact]
    public void A_sha256_allocate_succeeds_and_its_response_carries_message_integrity_sha256()
    {
        ClientCredentials credentials = Sha256Client();

        TurnResponse response = _turn.Allocate(s_client, credentials);

        Assert.Equal(StunClass.SuccessResponse, response.Class);
        Assert.Equal(StunPasswordAlgorithm.Sha256, credentials.PasswordAlgorithm);
        Assert.True(response.HasIntegritySha256);
        Assert.False(response.HasIntegrity);
        // RFC 8489 §9.2.2: key = SHA-256(username ":" realm ":" password), computed here without the codec.
        byte[] key = SHA256.HashData(Encoding.UTF8.GetBytes($"{credentials.Username}:{Harness.Realm}:{credentials.Password}"));
        Assert.Equal(key, credentials.Key);
        Assert.True(response.VerifiesSha256With(key));
        Assert.False(response.VerifiesSha256With(credentials.KeyFor(StunPasswordAlgorithm.Md5)));
        Assert.Equal(key, _turn.Server.FindAllocation(new FiveTuple(s_client, Harness.ServerUdp, TurnTransportProtocol.Udp))!.Key);
    }

    [Fact]
    public void A_wrong_sha256_key_is_401_and_counts_as_a_failure()
    {
        ClientCredentials wrong = Sha256Client() with { Password = "guess" };
        OfferingChallenge(wrong);

        TurnResponse response = _turn.Exchange(s_client, TurnMessages.Allocate(wrong))!;

        Assert.Equal(401, response.ErrorCode);
        Assert.False(response.HasIntegritySha256);
        Assert.Equal(s_offer, response.PasswordAlgorithmsValue);
        Assert.Equal(0, _turn.Server.AllocationCount);
    }

    [Fact]
    public void A_sha256_key_under_plain_message_integrity_is_verified_with_hmac_sha1_and_answered_so()
    {
        ClientCredentials credentials = Sha256Client();
        OfferingChallenge(credentials);
        credentials.IntegritySha256 = false; // PASSWORD-ALGORITHM SHA-256 chooses the key; MESSAGE-INTEGRITY is HMAC-SHA1

        TurnResponse response = _turn.Exchange(s_client, TurnMessages.Allocate(credentials))!;

        Assert.Equal(StunClass.SuccessResponse, response.Class);
        Assert.True(response.VerifiesWith(credentials.KeyFor(StunPasswordAlgorithm.Sha256)));
        Assert.False(response.HasIntegritySha256);
    }

    public static TheoryData<byte[]> TamperedLists => new()
    {
        new byte[] { 0x00, 0x01, 0x00, 0x00 },                                     // MD5 only: SHA-256 stripped
        new byte[] { 0x00, 0x02, 0x00, 0x00 },                                     // SHA-256 only
        new byte[] { 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00 },             // reordered
        new byte[] { 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00 }, // one added
    };

    [Theory]
    [MemberData(nameof(TamperedLists))]
    public void Password_algorithms_that_differ_from_what_the_challenge_sent_are_400(byte[] list)
    {
        ClientCredentials credentials = Sha256Client();
        OfferingChallenge(credentials);
        credentials.PasswordAlgorithms = list;

        TurnResponse response = _turn.Exchange(s_client, TurnMessages.Allocate(credentials))!;

        Assert.Equal(400, response.ErrorCode);
        Assert.False(response.HasIntegrity || response.HasIntegritySha256);
        Assert.Equal(0, _turn.Server.AllocationCount);
    }

    [Fact]
    public void A_password_algorithm_that_was_not_offered_is_400()
    {
        ClientCredentials credentials = Sha256Client();
        OfferingChallenge(credentials);
        credentials.PasswordAlgorithm = (StunPasswordAlgorithm)0x0003;

        Assert.Equal(400, _turn.Exchange(s_client, TurnMessages.Allocate(credentials))!.ErrorCode);
    }

    [Fact]
    public void Password_algorithm_without_password_algorithms_and_the_reverse_are_400()
    {
        ClientCredentials credentials = Sha256Client();
        OfferingChallenge(credentials);
        byte[] offered = credentials.PasswordAlgorithms!;

        credentials.PasswordAlgorithms = null;
        Assert.Equal(400, _turn.Exchange(s_client, TurnMessages.Allocate(credentials))!.ErrorCode);

        credentials.PasswordAlgorithms = offered;
        credentials.PasswordAlgorithm = null;
        credentials.IntegritySha256 = false;
        Assert.Equal(400, _turn.Exchange(s_client, TurnMessages.Allocate(credentials))!.ErrorCode);
    }

    [Fact]
    public void A_nonce_whose_feature_bits_were_stripped_is_438_and_the_new_nonce_keeps_the_cookie()
    {
        // The bid-down an on-path attacker would try: clear the bit in the challenge so the client falls back to MD5.
        ClientCredentials credentials = _turn.Credentials();
        TurnResponse challenge = OfferingChallenge(Sha256Client());
        byte[] stripped = [.. challenge.Nonce!];
        Encoding.ASCII.GetBytes("AAAA").CopyTo(stripped, 9);
        credentials.Nonce = stripped;

        TurnResponse response = _turn.Exchange(s_client, TurnMessages.Allocate(credentials))!;

        Assert.Equal(438, response.ErrorCode);
        Assert.StartsWith("obMatJos2AAAB", Encoding.ASCII.GetString(response.Nonce!), StringComparison.Ordinal);
        Assert.Equal(s_offer, response.PasswordAlgorithmsValue);

        // Cutting the whole cookie off leaves a nonce of the legacy shape whose MAC does not verify either.
        credentials.Nonce = challenge.Nonce![NonceService.CookieLength..];
        Assert.Equal(438, _turn.Exchange(s_client, TurnMessages.Allocate(credentials))!.ErrorCode);
    }

    [Fact]
    public void Without_the_cookie_only_md5_was_offered_so_password_algorithm_sha256_is_400()
    {
        ClientCredentials credentials = _turn.Credentials();
        credentials.Nonce = _turn.Exchange(s_client, TurnMessages.Allocate(null))!.Nonce!; // the legacy challenge
        credentials.PasswordAlgorithm = StunPasswordAlgorithm.Sha256;

        Assert.Equal(400, _turn.Exchange(s_client, TurnMessages.Allocate(credentials))!.ErrorCode);

        credentials.PasswordAlgorithm = StunPasswordAlgorithm.Md5; // naming MD5 is what no cookie means anyway
        Assert.Equal(StunClass.SuccessResponse, _turn.Exchange(s_client, TurnMessages.Allocate(credentials))!.Class);
    }

    [Fact]
    public void An_md5_client_given_the_offer_ignores_it_and_works_as_before()
    {
        ClientCredentials credentials = _turn.Credentials();
        TurnResponse challenge = OfferingChallenge(Sha256Client());
        credentials.Nonce = challenge.Nonce!; // a nonce with the cookie; the client sends no PASSWORD-ALGORITHM(S)

        TurnResponse response = _turn.Exchange(s_client, TurnMessages.Allocate(credentials))!;

        Assert.Equal(StunClass.SuccessResponse, response.Class);
        Assert.True(response.VerifiesWith(credentials.KeyFor(StunPasswordAlgorithm.Md5)));
        Assert.False(response.HasIntegritySha256);
        Assert.Equal(16, _turn.Server.FindAllocation(new FiveTuple(s_client, Harness.ServerUdp, TurnTransportProtocol.Udp))!.Key.Length);
    }

    [Fact]
    public void With_both_integrity_attributes_the_server_uses_sha256()
    {
        ClientCredentials credentials = Sha256Client();
        OfferingChallenge(credentials);
        credentials.BothIntegrities = true;

        TurnResponse response = _turn.Exchange(s_client, TurnMessages.Allocate(credentials))!;

        Assert.Equal(StunClass.SuccessResponse, response.Class);
        Assert.True(response.HasIntegritySha256);
        Assert.False(response.HasIntegrity);
    }

    [Fact]
    public void With_both_integrity_attributes_a_wrong_sha256_value_is_401_even_if_message_integrity_is_right()
    {
        ClientCredentials credentials = Sha256Client();
        OfferingChallenge(credentials);
        byte[] request = TurnMessages.Build(StunMessageType.AllocateRequest, (ref StunMessageWriter w) =>
        {
            w.WriteRequestedTransport(17);
            TurnMessages.WriteCredentials(ref w, credentials); // SHA-256 chosen from the offer
            w.WriteMessageIntegrity(credentials.Key);
            w.WriteMessageIntegritySha256(new byte[32]); // wrong key
        });

        Assert.Equal(401, _turn.Exchange(s_client, request)!.ErrorCode);
    }

    [Fact]
    public void Refresh_create_permission_and_channel_bind_work_with_sha256_and_the_relay_with_them()
    {
        ClientCredentials credentials = Sha256Client();
        TurnResponse allocate = _turn.Allocate(s_client, credentials);
        FakeRelaySocket relay = _turn.Relays.At(allocate.Relayed[0]);
        byte[] key = credentials.KeyFor(StunPasswordAlgorithm.Sha256);

        foreach (TurnResponse response in new[]
        {
            _turn.Request(s_client, credentials, c => TurnMessages.Refresh(c, 1200)),
            _turn.Request(s_client, credentials, c => TurnMessages.CreatePermission(c, Harness.PublicPeer)),
            _turn.Request(s_client, credentials, c => TurnMessages.ChannelBind(c, 0x4001, Harness.PublicPeer)),
        })
        {
            Assert.Equal(StunClass.SuccessResponse, response.Class);
            Assert.True(response.HasIntegritySha256);
            Assert.False(response.HasIntegrity);
            Assert.True(response.VerifiesSha256With(key));
        }

        _turn.Server.OnClientPacket(_turn.Udp, s_client, TurnMessages.ChannelDataMessage(0x4001, [1, 2, 3]));
        Assert.Equal([1, 2, 3], Assert.Single(relay.Sent).Data);
    }

    [Fact]
    public void A_stale_nonce_is_438_with_the_cookie_kept_and_the_client_goes_on_with_sha256()
    {
        using var turn = new Harness(o => o.NonceLifetime = TimeSpan.FromMinutes(1));
        ClientCredentials credentials = turn.Credentials() with { PreferSha256 = true };
        Assert.Equal(StunClass.SuccessResponse, turn.Allocate(s_client, credentials).Class);
        byte[] oldNonce = credentials.Nonce;
        turn.Advance(TimeSpan.FromMinutes(2));

        TurnResponse stale = turn.Exchange(s_client, TurnMessages.Refresh(credentials))!;

        Assert.Equal(438, stale.ErrorCode);
        Assert.StartsWith("obMatJos2AAAB", Encoding.ASCII.GetString(stale.Nonce!), StringComparison.Ordinal);
        Assert.NotEqual(oldNonce, stale.Nonce);
        Assert.Equal(s_offer, stale.PasswordAlgorithmsValue);
        Assert.False(stale.HasIntegrity || stale.HasIntegritySha256);
        credentials.Accept(stale);
        TurnResponse refreshed = turn.Exchange(s_client, TurnMessages.Refresh(credentials))!;
        Assert.Equal(StunClass.SuccessResponse, refreshed.Class);
        Assert.True(refreshed.VerifiesSha256With(credentials.KeyFor(StunPasswordAlgorithm.Sha256)));
    }

    [Fact]
    public void Userhash_without_username_is_401_because_username_anonymity_is_not_offered()
    {
        ClientCredentials credentials = Sha256Client();
        TurnResponse challenge = OfferingChallenge(credentials);
        Assert.Equal('B', (char)challenge.Nonce![12]); // bit 1 (Username anonymity, 'C'/'D') is not set
        var hash = new byte[32];
        StunIntegrity.ComputeUserHash(Encoding.UTF8.GetBytes(credentials.Username), Encoding.UTF8.GetBytes(Harness.Realm), hash);
        byte[] request = TurnMessages.Build(StunMessageType.AllocateRequest, (ref StunMessageWriter w) =>
        {
            w.WriteRequestedTransport(17);
            w.WriteUserHash(hash);
            w.WriteText(StunAttributeType.Realm, credentials.Realm);
            w.WriteNonce(credentials.Nonce);
            w.WriteAttribute(StunAttributeType.PasswordAlgorithms, credentials.PasswordAlgorithms!);
            w.WritePasswordAlgorithm(StunPasswordAlgorithm.Sha256);
            w.WriteMessageIntegritySha256(credentials.Key);
        });

        TurnResponse response = _turn.Exchange(s_client, request)!;

        Assert.Equal(401, response.ErrorCode);
        Assert.Equal(0, _turn.Server.AllocationCount);
    }

    [Fact]
    public void With_the_offer_turned_off_challenges_are_as_before_and_sha256_keys_are_refused()
    {
        using var turn = new Harness(o => o.OfferPasswordAlgorithms = false);
        var tcp = new FakeClientTransport(TurnTransportProtocol.Tcp, Harness.ServerUdp);
        ClientCredentials credentials = turn.Credentials() with { PreferSha256 = true };

        TurnResponse challenge = turn.Exchange(s_client, TurnMessages.NextAllocate(credentials), tcp)!;
        Assert.Equal(NonceService.Length, challenge.Nonce!.Length);
        Assert.Null(challenge.PasswordAlgorithmsValue);

        credentials.Accept(challenge);
        Assert.Null(credentials.PasswordAlgorithm); // nothing offered: the client stays with MD5
        Assert.Equal(StunClass.SuccessResponse, turn.Exchange(s_client, TurnMessages.Allocate(credentials), tcp)!.Class);

        ClientCredentials insisting = turn.Credentials("bob");
        insisting.Nonce = challenge.Nonce;
        insisting.PasswordAlgorithm = StunPasswordAlgorithm.Sha256;
        insisting.IntegritySha256 = true;
        Assert.Equal(400, turn.Exchange(TurnMessages.Address("192.0.2.10", 1), TurnMessages.Allocate(insisting), tcp)!.ErrorCode);
    }

    [Fact]
    public void Message_integrity_sha256_with_an_md5_key_is_accepted_and_answered_in_kind()
    {
        // §14.6 does not tie the HMAC to the key's algorithm: MD5 key (no PASSWORD-ALGORITHM), HMAC-SHA256.
        ClientCredentials credentials = _turn.Credentials();
        credentials.Nonce = _turn.Exchange(s_client, TurnMessages.Allocate(null))!.Nonce!;
        credentials.IntegritySha256 = true;

        TurnResponse response = _turn.Exchange(s_client, TurnMessages.Allocate(credentials))!;

        Assert.Equal(StunClass.SuccessResponse, response.Class);
        Assert.True(response.VerifiesSha256With(credentials.KeyFor(StunPasswordAlgorithm.Md5)));
    }
}
