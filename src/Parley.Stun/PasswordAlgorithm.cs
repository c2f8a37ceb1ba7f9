using System.Buffers.Binary;

namespace Parley.Stun;

/// <summary>Password algorithms for long-term credentials (RFC 8489 §18.5).</summary>
public enum StunPasswordAlgorithm : ushort
{
    /// <summary>MD5: key = MD5(username ":" realm ":" password), 16 bytes; no parameters.</summary>
    Md5 = 0x0001,

    /// <summary>SHA-256: key = SHA-256(username ":" realm ":" password), 32 bytes; no parameters.</summary>
    Sha256 = 0x0002,
}

/// <summary>
/// Walks the entries of a PASSWORD-ALGORITHMS or PASSWORD-ALGORITHM value (RFC 8489 §14.11, §14.12): a 16-bit
/// algorithm, a 16-bit parameter length and the parameters padded to four bytes. A view; stops at malformed bytes.
/// </summary>
public ref struct PasswordAlgorithmEnumerator
{
    private readonly ReadOnlySpan<byte> _value;
    private int _next;

    internal PasswordAlgorithmEnumerator(ReadOnlySpan<byte> value)
    {
        _value = value;
        _next = 0;
        Current = 0;
        Parameters = default;
    }

    /// <summary>The current algorithm.</summary>
    public StunPasswordAlgorithm Current { get; private set; }

    /// <summary>The current algorithm's parameters (empty for MD5 and SHA-256).</summary>
    public ReadOnlySpan<byte> Parameters { get; private set; }

    /// <summary>True once every byte has been walked as a well-formed entry.</summary>
    public readonly bool IsAtEnd => _next == _value.Length;

    /// <summary>This enumerator, for <c>foreach</c>.</summary>
    public readonly PasswordAlgorithmEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next entry; false at the end or at malformed bytes.</summary>
    public bool MoveNext()
    {
        int remaining = _value.Length - _next;
        if (remaining < 4)
        {
            return false;
        }

        ReadOnlySpan<byte> entry = _value[_next..];
        int parametersLength = BinaryPrimitives.ReadUInt16BigEndian(entry[2..]);
        int padded = StunHeader.Pad4(parametersLength);
        if (4 + padded > remaining)
        {
            _next = _value.Length + 1; // malformed: never IsAtEnd
            return false;
        }

        Current = (StunPasswordAlgorithm)BinaryPrimitives.ReadUInt16BigEndian(entry);
        Parameters = entry.Slice(4, parametersLength);
        _next += 4 + padded;
        return true;
    }
}
