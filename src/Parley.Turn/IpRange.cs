using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using Parley.Stun;

namespace Parley.Turn;

/// <summary>A CIDR range ("10.0.0.0/8", "fc00::/7", or a single address) matched against addresses without allocating.</summary>
public readonly record struct IpRange
{
    private readonly ulong _high;
    private readonly ulong _low;

    private IpRange(StunAddressFamily family, ulong high, ulong low, int prefixLength)
    {
        Family = family;
        PrefixLength = prefixLength;
        (_high, _low) = Mask(family, high, low, prefixLength);
    }

    /// <summary>IPv4 or IPv6.</summary>
    public StunAddressFamily Family { get; }

    /// <summary>The prefix length in bits.</summary>
    public int PrefixLength { get; }

    /// <summary>Parses "address/prefix" or a bare address (a /32 or /128).</summary>
    public static bool TryParse(string? text, out IpRange range)
    {
        range = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        int slash = text.IndexOf('/', StringComparison.Ordinal);
        string addressText = slash < 0 ? text.Trim() : text[..slash].Trim();
        if (!IPAddress.TryParse(addressText, out IPAddress? address))
        {
            return false;
        }

        TransportAddress transport = TransportAddress.FromIPEndPoint(new IPEndPoint(address, 0));
        int max = transport.Family == StunAddressFamily.IPv4 ? 32 : 128;
        int prefix = max;
        if (slash >= 0 && (!int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > max))
        {
            return false;
        }

        (ulong high, ulong low) = Split(transport);
        range = new IpRange(transport.Family, high, low, prefix);
        return true;
    }

    /// <summary>Parses a range, throwing for bad input (for constants and tests).</summary>
    public static IpRange Parse(string text) =>
        TryParse(text, out IpRange range) ? range : throw new FormatException($"'{text}' is not a CIDR range.");

    /// <summary>Whether <paramref name="address"/> (its IP; the port is ignored) lies in this range. Families must match.</summary>
    public bool Contains(in TransportAddress address)
    {
        if (address.Family != Family)
        {
            return false;
        }

        (ulong high, ulong low) = Split(address);
        (high, low) = Mask(Family, high, low, PrefixLength);
        return high == _high && low == _low;
    }

    /// <inheritdoc/>
    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[16];
        if (Family == StunAddressFamily.IPv4)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes, (uint)_low);
            return $"{new IPAddress(bytes[..4])}/{PrefixLength}";
        }

        BinaryPrimitives.WriteUInt64BigEndian(bytes, _high);
        BinaryPrimitives.WriteUInt64BigEndian(bytes[8..], _low);
        return $"{new IPAddress(bytes)}/{PrefixLength}";
    }

    // The address as (high, low) 64-bit halves; IPv4 in the low 32 bits of low.
    [SuppressMessage("Style", "IDE0057", Justification = "Clearer as written.")]
    internal static (ulong High, ulong Low) Split(in TransportAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        int length = address.WriteAddressBytes(bytes);
        return length == 4
            ? (0UL, BinaryPrimitives.ReadUInt32BigEndian(bytes))
            : (BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]));
    }

    private static (ulong High, ulong Low) Mask(StunAddressFamily family, ulong high, ulong low, int prefix)
    {
        if (family == StunAddressFamily.IPv4)
        {
            ulong mask = prefix == 0 ? 0 : (0xFFFF_FFFFUL << (32 - prefix)) & 0xFFFF_FFFFUL;
            return (0, low & mask);
        }

        ulong highMask = prefix >= 64 ? ulong.MaxValue : prefix == 0 ? 0 : ulong.MaxValue << (64 - prefix);
        ulong lowMask = prefix <= 64 ? 0 : prefix == 128 ? ulong.MaxValue : ulong.MaxValue << (128 - prefix);
        return (high & highMask, low & lowMask);
    }
}
