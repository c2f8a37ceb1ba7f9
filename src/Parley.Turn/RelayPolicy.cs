using System.Buffers.Binary;
using Parley.Stun;

namespace Parley.Turn;

/// <summary>
/// Which peers an allocation may relay to. Secure by default: loopback, private (RFC 1918, 100.64/10 CGNAT,
/// fc00::/7), link-local, multicast, broadcast, unspecified, documentation and other reserved ranges, and the
/// server's own listening addresses are refused unless an allow-listed CIDR covers them. IPv6 addresses that embed an
/// IPv4 address (IPv4-mapped, IPv4-compatible, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32) are judged by
/// the embedded IPv4 address, so ::ffff:127.0.0.1 is loopback (cf. coturn CVE-2026-27624).
/// <para>
/// The server's relay (and external) addresses are allowed at the IP level, because two clients of this server
/// relay to each other's relayed addresses (a relay-only call through one server); per packet,
/// <see cref="IsAllowedDestination"/> then admits only ports in the relay port range there.
/// </para>
/// </summary>
public sealed class RelayPolicy
{
    private static readonly IpRange[] s_deniedIPv4 =
    [
        IpRange.Parse("0.0.0.0/8"),        // "this network", unspecified
        IpRange.Parse("10.0.0.0/8"),       // RFC 1918
        IpRange.Parse("100.64.0.0/10"),    // RFC 6598 CGNAT
        IpRange.Parse("127.0.0.0/8"),      // loopback
        IpRange.Parse("169.254.0.0/16"),   // link-local
        IpRange.Parse("172.16.0.0/12"),    // RFC 1918
        IpRange.Parse("192.0.0.0/24"),     // IETF protocol assignments
        IpRange.Parse("192.0.2.0/24"),     // TEST-NET-1
        IpRange.Parse("192.88.99.0/24"),   // 6to4 relay anycast (deprecated)
        IpRange.Parse("192.168.0.0/16"),   // RFC 1918
        IpRange.Parse("198.18.0.0/15"),    // benchmarking
        IpRange.Parse("198.51.100.0/24"),  // TEST-NET-2
        IpRange.Parse("203.0.113.0/24"),   // TEST-NET-3
        IpRange.Parse("224.0.0.0/4"),      // multicast
        IpRange.Parse("240.0.0.0/4"),      // reserved, and 255.255.255.255 broadcast
    ];

    private static readonly IpRange[] s_deniedIPv6 =
    [
        IpRange.Parse("::/128"),           // unspecified
        IpRange.Parse("::1/128"),          // loopback
        IpRange.Parse("64:ff9b:1::/48"),   // local-use NAT64 (RFC 8215)
        IpRange.Parse("100::/64"),         // discard-only
        IpRange.Parse("2001:2::/48"),      // benchmarking
        IpRange.Parse("2001:10::/28"),     // ORCHID
        IpRange.Parse("2001:20::/28"),     // ORCHIDv2
        IpRange.Parse("2001:db8::/32"),    // documentation
        IpRange.Parse("3fff::/20"),        // documentation (RFC 9637)
        IpRange.Parse("fc00::/7"),         // unique local
        IpRange.Parse("fe80::/10"),        // link-local
        IpRange.Parse("fec0::/10"),        // site-local (deprecated)
        IpRange.Parse("ff00::/8"),         // multicast
    ];

    private readonly IpRange[] _allowed;
    private readonly TransportAddress[] _serverAddresses;
    private readonly TransportAddress[] _relayAddresses;
    private readonly int _minRelayPort;
    private readonly int _maxRelayPort;

    /// <summary>Builds the policy.</summary>
    /// <param name="allowed">CIDRs that override the default refusals.</param>
    /// <param name="serverAddresses">The server's listening addresses: always refused unless allow-listed.</param>
    /// <param name="relayAddresses">Relay and external addresses: allowed only on relay-range ports.</param>
    /// <param name="minRelayPort">Lowest relay port.</param>
    /// <param name="maxRelayPort">Highest relay port.</param>
    public RelayPolicy(IEnumerable<IpRange> allowed, IEnumerable<TransportAddress> serverAddresses,
        IEnumerable<TransportAddress> relayAddresses, int minRelayPort, int maxRelayPort)
    {
        _allowed = [.. allowed];
        _serverAddresses = [.. serverAddresses.Select(a => Canonical(a.WithoutPort()))];
        _relayAddresses = [.. relayAddresses.Select(a => Canonical(a.WithoutPort()))];
        _minRelayPort = minRelayPort;
        _maxRelayPort = maxRelayPort;
    }

    /// <summary>Whether a permission (IP only, RFC 8656 §9) may be installed for <paramref name="peer"/>.</summary>
    public bool IsAllowedPeer(in TransportAddress peer)
    {
        TransportAddress canonical = Canonical(peer.WithoutPort());
        if (IsAllowListed(peer) || IsAllowListed(canonical))
        {
            return true;
        }

        if (canonical.Family == 0 || IsSpecial(canonical) || (canonical != peer.WithoutPort() && IsSpecialEmbedding(peer)))
        {
            return false;
        }

        return !Contains(_serverAddresses, canonical) || Contains(_relayAddresses, canonical);
    }

    // A loop rather than Array.Exists: a lambda capturing the address would allocate on the relay path.
    private static bool Contains(TransportAddress[] addresses, in TransportAddress address)
    {
        foreach (TransportAddress candidate in addresses)
        {
            if (candidate == address)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Per packet (Send, ChannelData, ChannelBind): the IP check plus, for the server's own relay addresses, a port in
    /// the relay range. Allocation-free.
    /// </summary>
    public bool IsAllowedDestination(in TransportAddress peer)
    {
        if (peer.Port == 0 || !IsAllowedPeer(peer))
        {
            return false;
        }

        if (IsAllowListed(peer))
        {
            return true;
        }

        TransportAddress canonical = Canonical(peer.WithoutPort());
        foreach (TransportAddress relay in _relayAddresses)
        {
            if (relay == canonical)
            {
                return peer.Port >= _minRelayPort && peer.Port <= _maxRelayPort;
            }
        }

        return true;
    }

    /// <summary>
    /// The address a packet to <paramref name="address"/> would really reach, as far as the policy is concerned: the
    /// IPv4 address embedded in IPv4-mapped, IPv4-compatible, NAT64 (64:ff9b::/96), 6to4 (2002::/16) and Teredo
    /// (2001::/32, the client address) forms; other addresses unchanged.
    /// </summary>
    public static TransportAddress Canonical(in TransportAddress address)
    {
        if (address.Family != StunAddressFamily.IPv6)
        {
            return address;
        }

        (ulong high, ulong low) = IpRange.Split(address);
        uint embedded;
        if (high == 0 && (low >> 32) == 0xFFFF)
        {
            embedded = (uint)low; // ::ffff:a.b.c.d
        }
        else if (high == 0 && (low >> 32) == 0 && low > 1)
        {
            embedded = (uint)low; // ::a.b.c.d (deprecated IPv4-compatible)
        }
        else if (high == 0x0064_ff9b_0000_0000UL && (low >> 32) == 0)
        {
            embedded = (uint)low; // 64:ff9b::a.b.c.d, NAT64 well-known prefix
        }
        else if ((high >> 48) == 0x2002)
        {
            embedded = (uint)(high >> 16); // 2002:aabb:ccdd::/48, 6to4
        }
        else if ((high >> 32) == 0x2001_0000UL)
        {
            embedded = ~(uint)low; // Teredo: the client's address, obfuscated in the last 32 bits
        }
        else
        {
            return address;
        }

        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, embedded);
        return TransportAddress.FromIPv4(bytes, address.Port);
    }

    private bool IsAllowListed(in TransportAddress address)
    {
        foreach (IpRange range in _allowed)
        {
            if (range.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    // Teredo also embeds its server's IPv4 address (bits 32-63): a special one there is refused too.
    private static bool IsSpecialEmbedding(in TransportAddress address)
    {
        (ulong high, _) = IpRange.Split(address);
        if ((high >> 32) != 0x2001_0000UL)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)high);
        return IsSpecial(TransportAddress.FromIPv4(bytes, 0));
    }

    private static bool IsSpecial(in TransportAddress canonical)
    {
        foreach (IpRange range in canonical.Family == StunAddressFamily.IPv4 ? s_deniedIPv4 : s_deniedIPv6)
        {
            if (range.Contains(canonical))
            {
                return true;
            }
        }

        return false;
    }
}
