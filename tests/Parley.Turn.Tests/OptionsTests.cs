using Microsoft.Extensions.Options;

namespace Parley.Turn.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_match_the_rfc_and_coturn()
    {
        var options = new TurnOptions();

        Assert.True(options.Enabled);
        Assert.Equal(3478, options.UdpPort);
        Assert.Equal(3478, options.TcpPort);
        Assert.Equal(5349, options.TlsPort);
        Assert.Equal((49152, 65535), (options.MinRelayPort, options.MaxRelayPort));
        Assert.Equal(TimeSpan.FromSeconds(600), options.DefaultAllocationLifetime);
        Assert.Equal(TimeSpan.FromSeconds(3600), options.MaxAllocationLifetime);
        Assert.Equal(TimeSpan.FromSeconds(300), options.PermissionLifetime);
        Assert.Equal(TimeSpan.FromSeconds(600), options.ChannelBindingLifetime);
        Assert.Empty(options.AllowedPeerRanges);
        Assert.False(options.AllowExpiredRefresh);
        Assert.True(options.OfferPasswordAlgorithms);
    }

    [Theory]
    [InlineData("example.com", true)]
    [InlineData("parley", true)]
    [InlineData("caf\u00e9.example", true)]       // non-ASCII in NFC (NFC itself is not checked, see the validator)
    [InlineData("a realm", true)]
    [InlineData("my\u00a0realm", false)]          // a non-ASCII space: OpaqueString maps it to ' '
    [InlineData("tab\trealm", false)]             // a control character: OpaqueString refuses it
    public void The_realm_must_be_in_its_opaquestring_form(string realm, bool valid)
    {
        var options = new TurnOptions { Realm = realm, SharedSecrets = ["0123456789abcdef0123"], RelayAddresses = ["203.0.113.5"] };

        ValidateOptionsResult result = new TurnOptionsValidator().Validate(null, options);

        Assert.Equal(valid, result.Succeeded);
        if (!valid)
        {
            Assert.StartsWith("Turn:Realm", Assert.Single(result.Failures!), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_validator_reports_every_problem_with_a_fix()
    {
        var options = new TurnOptions
        {
            Realm = "",
            ListenAddresses = ["not-an-ip"],
            MinRelayPort = 60000,
            MaxRelayPort = 50000,
            AllowedPeerRanges = ["10.0.0.0/33"],
            PermissionLifetime = TimeSpan.Zero,
            MaxAllocationsPerUser = 0,
            UdpEventLoops = -1,
        };

        ValidateOptionsResult result = new TurnOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        string[] failures = [.. result.Failures!];
        Assert.Contains(failures, f => f.StartsWith("Turn:Realm", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Turn:SharedSecrets", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Turn:ListenAddresses", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Turn:RelayAddresses", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Turn:MinRelayPort", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Turn:AllowedPeerRanges", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Turn:PermissionLifetime", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Turn:MaxAllocationsPerUser", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Turn:UdpEventLoops", StringComparison.Ordinal));
        Assert.All(failures, f => Assert.Contains(":", f, StringComparison.Ordinal));
    }

    [Fact]
    public void A_complete_configuration_is_valid_and_a_disabled_one_needs_nothing()
    {
        var options = new TurnOptions { SharedSecrets = ["0123456789abcdef0123"], RelayAddresses = ["203.0.113.5"] };

        Assert.True(new TurnOptionsValidator().Validate(null, options).Succeeded);
        Assert.True(new TurnOptionsValidator().Validate(null, new TurnOptions { Enabled = false }).Succeeded);
    }

    [Fact]
    public void Rest_credentials_match_the_coturn_scheme()
    {
        TurnCredential credential = TurnCredentials.Create("test-secret", "alice", DateTimeOffset.FromUnixTimeSeconds(1700000000));

        Assert.Equal("1700000000:alice", credential.Username);
        // base64(HMAC-SHA1("test-secret", "1700000000:alice")), computed independently with openssl.
        Assert.Equal(ExpectedPassword, credential.Password);
        Assert.True(TurnCredentials.TryParseUsername("1700000000:alice", out long expiry, out ReadOnlySpan<char> user));
        Assert.Equal((1700000000L, "alice"), (expiry, user.ToString()));
    }

    private const string ExpectedPassword = "RWcENWOonFtFc5brOGv0s1jhDhE=";
}
