namespace Parley.Signaling.Tests;

public sealed class IceServerTests
{
    private static void WithTurn(SignalingOptions o)
    {
        o.IceServers.Add(new IceServerOptions { Urls = ["stun:127.0.0.1:3478"] });
        o.IceServers.Add(new IceServerOptions { Urls = ["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"], SharedSecret = "test-secret" });
    }

    [Fact]
    public void Turn_rest_credentials_match_coturns_scheme()
    {
        // Reference value from: echo -n "1767272400:peer1" | openssl dgst -sha1 -hmac "test-secret" -binary | base64
        var expiry = DateTimeOffset.FromUnixTimeSeconds(1_767_272_400);

        var username = IceServerProvider.TurnRestUsername(expiry, "peer1");

        Assert.Equal("1767272400:peer1", username);
        Assert.Equal("cSt6TQI9AmRjk3XFTTyliy3fMQo=", IceServerProvider.TurnRestPassword("test-secret", username));
    }

    [Fact]
    public void Welcome_mints_per_peer_credentials_that_expire_after_the_configured_lifetime()
    {
        using var harness = new HubHarness(WithTurn);
        var client = harness.Connect();

        var welcome = client.Hello();

        var servers = welcome.GetProperty("iceServers");
        Assert.False(servers[0].TryGetProperty("username", out _));
        var username = servers[1].GetProperty("username").GetString()!;
        var expiry = harness.Time.GetUtcNow().AddHours(1).ToUnixTimeSeconds();
        Assert.Equal($"{expiry}:{client.PeerId}", username);
        Assert.Equal(IceServerProvider.TurnRestPassword("test-secret", username), servers[1].GetProperty("credential").GetString());
        Assert.Equal(expiry * 1000, welcome.GetProperty("iceServersExpireAtMs").GetInt64());
    }

    [Fact]
    public void Ice_servers_request_returns_fresh_credentials()
    {
        using var harness = new HubHarness(WithTurn);
        var client = harness.Connect();
        var first = client.Hello().GetProperty("iceServers")[1].GetProperty("username").GetString();
        harness.Time.Advance(TimeSpan.FromSeconds(30));

        client.Send(new { type = "ice-servers", rid = "r" });

        var reply = client.Transport.One("ice-servers");
        Assert.Equal("r", reply.GetProperty("rid").GetString());
        Assert.NotEqual(first, reply.GetProperty("iceServers")[1].GetProperty("username").GetString());
        Assert.True(reply.GetProperty("expireAtMs").GetInt64() > harness.Time.GetUtcNow().ToUnixTimeMilliseconds());
    }

    [Theory]
    [InlineData("parley.example.org:8443", "turn:parley.example.org:3478?transport=udp")]
    [InlineData("192.168.1.20", "turn:192.168.1.20:3478?transport=udp")]
    [InlineData("[2001:db8::1]:8080", "turn:[2001:db8::1]:3478?transport=udp")]
    public void The_host_placeholder_becomes_the_host_the_browser_used(string hostHeader, string expected)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new SignalingOptions());
        options.Value.IceServers.Add(new IceServerOptions { Urls = ["turn:{host}:3478?transport=udp"], SharedSecret = "0123456789abcdef" });
        var provider = new IceServerProvider(options, TimeProvider.System, []);

        var (servers, _) = provider.For("peer", hostHeader);

        Assert.Equal(expected, Assert.Single(Assert.Single(servers).Urls));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("evil.org/?x=")]
    [InlineData("a b")]
    public void A_missing_or_odd_host_leaves_placeholder_urls_out(string? hostHeader)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new SignalingOptions());
        options.Value.IceServers.Add(new IceServerOptions { Urls = ["stun:{host}:3478", "stun:stun.example.org:3478"] });
        var provider = new IceServerProvider(options, TimeProvider.System, []);

        var (servers, _) = provider.For("peer", hostHeader);

        Assert.Equal("stun:stun.example.org:3478", Assert.Single(Assert.Single(servers).Urls));
    }

    [Fact]
    public void Without_minted_credentials_no_expiry_is_sent()
    {
        using var harness = new HubHarness(o => o.IceServers.Add(new IceServerOptions { Urls = ["stun:127.0.0.1:3478"] }));

        var welcome = harness.Connect().Hello();

        Assert.False(welcome.TryGetProperty("iceServersExpireAtMs", out _));
    }
}
