using Parley.Stun;

namespace Parley.Turn.Tests;

public sealed class IpRangeTests
{
    [Theory]
    [InlineData("10.0.0.0/8", "10.255.1.2", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("100.64.0.0/10", "100.127.255.255", true)]
    [InlineData("100.64.0.0/10", "100.128.0.0", false)]
    [InlineData("127.0.0.1", "127.0.0.1", true)]
    [InlineData("127.0.0.1", "127.0.0.2", false)]
    [InlineData("0.0.0.0/0", "8.8.8.8", true)]
    [InlineData("fc00::/7", "fdff::1", true)]
    [InlineData("fc00::/7", "fe00::1", false)]
    [InlineData("2001:db8::/32", "2001:db8:ffff::1", true)]
    [InlineData("2001:db8::1/128", "2001:db8::1", true)]
    [InlineData("2001:db8::/96", "2001:db8::1:0:1", false)]
    [InlineData("10.0.0.0/8", "::ffff:10.0.0.1", false)] // families differ: the policy canonicalises first
    public void Contains_matches_prefixes(string range, string ip, bool expected) =>
        Assert.Equal(expected, IpRange.Parse(range).Contains(TurnMessages.Address(ip, 1)));

    [Theory]
    [InlineData("")]
    [InlineData("10.0.0.0/33")]
    [InlineData("::/129")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("example.com/8")]
    public void Bad_ranges_do_not_parse(string text) => Assert.False(IpRange.TryParse(text, out _));

    [Fact]
    public void A_user_id_with_a_colon_is_refused_when_minting() =>
        Assert.Throws<ArgumentException>(() => TurnCredentials.Create("secret", "a:b", DateTimeOffset.UnixEpoch));

    [Fact]
    public void Canonical_leaves_plain_ipv6_alone()
    {
        TransportAddress address = TurnMessages.Address("2606:4700::1111", 3);

        Assert.Equal(address, RelayPolicy.Canonical(address));
        Assert.Equal(StunAddressFamily.IPv6, RelayPolicy.Canonical(address).Family);
    }
}
