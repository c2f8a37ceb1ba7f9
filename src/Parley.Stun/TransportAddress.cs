using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Parley.Stun;

/// <summary>The address families STUN encodes (RFC 8489 §14.1): 0x01 IPv4, 0x02 IPv6.</summary>
public enum StunAddressFamily : byte
{
    /// <summary>IPv4, 32-bit address.</summary>
    IPv4 = 0x01,

    /// <summary>IPv6, 128-bit address.</summary>
    IPv6 = 0x02,
}

/// <summary>
/// A transport address (RFC 8489 §3: an IP address and a port) as a small value: no allocation to create, compare,
/// hash or copy, so it can key the relay's tables. IPv6 scope ids are not represented (STUN does not carry them).
/// </summary>
public readonly struct TransportAddress : IEquatable<TransportAddress>
{
    // The address bytes in network order as two big-endian halves; IPv4 lives in the low 32 bits of _low.
    private readonly ulong _high;
    private readonly ulong _low;

    private static readonly SocketAddress s_ipv4Template = new(AddressFamily.InterNetwork);
    private static readonly SocketAddress s_ipv6Template = new(AddressFamily.InterNetworkV6);

    private TransportAddress(StunAddressFamily family, ulong high, ulong low, ushort port)
    {
        Family = family;
        _high = high;
        _low = low;
        Port = port;
    }

    /// <summary>IPv4 or IPv6. <c>default</c> has neither and is not a usable address.</summary>
    public StunAddressFamily Family { get; }

    /// <summary>The port, host order.</summary>
    public ushort Port { get; }

    /// <summary>4 for IPv4, 16 for IPv6.</summary>
    public int AddressLength => Family == StunAddressFamily.IPv6 ? 16 : 4;

    /// <summary>True for an IPv6 address of the form ::ffff:a.b.c.d (as dual-mode sockets report IPv4 peers).</summary>
    public bool IsIPv4MappedToIPv6 => Family == StunAddressFamily.IPv6 && _high == 0 && (_low >> 32) == 0xFFFF;

    /// <summary>An IPv4 transport address from four address bytes, network order.</summary>
    public static TransportAddress FromIPv4(ReadOnlySpan<byte> address, ushort port) =>
        new(StunAddressFamily.IPv4, 0, BinaryPrimitives.ReadUInt32BigEndian(address), port);

    /// <summary>An IPv6 transport address from sixteen address bytes, network order.</summary>
    public static TransportAddress FromIPv6(ReadOnlySpan<byte> address, ushort port) =>
        new(StunAddressFamily.IPv6, BinaryPrimitives.ReadUInt64BigEndian(address), BinaryPrimitives.ReadUInt64BigEndian(address[8..]), port);

    /// <summary>Convenience for configuration and tests; not for per-packet use.</summary>
    public static TransportAddress FromIPEndPoint(IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        Span<byte> bytes = stackalloc byte[16];
        if (!endPoint.Address.TryWriteBytes(bytes, out int written))
        {
            throw new ArgumentException("Unsupported address.", nameof(endPoint));
        }

        ushort port = (ushort)endPoint.Port;
        return written == 4 ? FromIPv4(bytes, port) : FromIPv6(bytes, port);
    }

    /// <summary>Writes the 4 or 16 address bytes, network order; returns how many.</summary>
    public int WriteAddressBytes(Span<byte> destination)
    {
        if (Family == StunAddressFamily.IPv6)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination, _high);
            BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _low);
            return 16;
        }

        BinaryPrimitives.WriteUInt32BigEndian(destination, (uint)_low);
        return 4;
    }

    /// <summary>The same address and another port.</summary>
    public TransportAddress WithPort(ushort port) => new(Family, _high, _low, port);

    /// <summary>Same address, port zero: compare with this to match on IP alone (RFC 8656 §9 permissions).</summary>
    public TransportAddress WithoutPort() => WithPort(0);

    /// <summary>::ffff:a.b.c.d for an IPv4 address (for dual-mode sockets); IPv6 unchanged.</summary>
    public TransportAddress MapToIPv6() =>
        Family == StunAddressFamily.IPv4 ? new(StunAddressFamily.IPv6, 0, 0xFFFF_0000_0000UL | _low, Port) : this;

    /// <summary>a.b.c.d for ::ffff:a.b.c.d; any other address unchanged.</summary>
    public TransportAddress MapToIPv4() =>
        IsIPv4MappedToIPv6 ? new(StunAddressFamily.IPv4, 0, _low & 0xFFFF_FFFFUL, Port) : this;

    /// <summary>Convenience for logs, configuration and tests; allocates.</summary>
    public IPEndPoint ToIPEndPoint()
    {
        Span<byte> bytes = stackalloc byte[16];
        int length = WriteAddressBytes(bytes);
        return new IPEndPoint(new IPAddress(bytes[..length]), Port);
    }

    /// <summary>
    /// Reads an IPv4 or IPv6 <see cref="SocketAddress"/> (as filled by <c>Socket.ReceiveFrom</c>) without allocating.
    /// The port is at offset 2 and the address at offset 4 (IPv4) or 8 (IPv6) in sockaddr_in/sockaddr_in6 on
    /// Linux, Windows and macOS alike.
    /// </summary>
    public static bool TryRead(SocketAddress socketAddress, out TransportAddress address)
    {
        ArgumentNullException.ThrowIfNull(socketAddress);
        ReadOnlySpan<byte> buffer = socketAddress.Buffer.Span[..socketAddress.Size];
        ushort port;
        switch (socketAddress.Family)
        {
            case AddressFamily.InterNetwork when buffer.Length >= 8:
                port = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
                address = FromIPv4(buffer.Slice(4, 4), port);
                return true;
            case AddressFamily.InterNetworkV6 when buffer.Length >= 24:
                port = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
                address = FromIPv6(buffer.Slice(8, 16), port);
                return true;
            default:
                address = default;
                return false;
        }
    }

    /// <summary>
    /// Writes this address into a caller-owned <see cref="SocketAddress"/> (for <c>Socket.SendTo</c>) without
    /// allocating; the target's family and size are set to match. False if its buffer is too small (create it with
    /// <see cref="AddressFamily.InterNetworkV6"/> to hold either family) or this is <c>default</c>.
    /// </summary>
    public bool TryWriteTo(SocketAddress socketAddress)
    {
        ArgumentNullException.ThrowIfNull(socketAddress);
        SocketAddress template = Family switch
        {
            StunAddressFamily.IPv4 => s_ipv4Template,
            StunAddressFamily.IPv6 => s_ipv6Template,
            _ => null!,
        };
        if (template is null || socketAddress.Buffer.Length < template.Size)
        {
            return false;
        }

        Span<byte> buffer = socketAddress.Buffer.Span;
        template.Buffer.Span.CopyTo(buffer); // the platform's family encoding, zeroed flow info and scope id
        socketAddress.Size = template.Size;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], Port);
        WriteAddressBytes(buffer[(Family == StunAddressFamily.IPv6 ? 8 : 4)..]);
        return true;
    }

    /// <inheritdoc/>
    public bool Equals(TransportAddress other) =>
        Family == other.Family && Port == other.Port && _high == other._high && _low == other._low;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is TransportAddress other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(_high, _low, Port, Family);

    /// <summary>Equality.</summary>
    public static bool operator ==(TransportAddress left, TransportAddress right) => left.Equals(right);

    /// <summary>Inequality.</summary>
    public static bool operator !=(TransportAddress left, TransportAddress right) => !left.Equals(right);

    /// <summary>"192.0.2.1:32853" or "[2001:db8::1]:32853"; allocates.</summary>
    public override string ToString() => Family == 0 ? "(none)" : ToIPEndPoint().ToString();
}
