using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace Parley.Stun;

/// <summary>One attribute as it sits in the message (RFC 8489 §14): a view, valid only while the buffer is.</summary>
[SuppressMessage("Naming", "CA1711", Justification = "RFC 8489 vocabulary: a STUN attribute, not a .NET attribute.")]
public readonly ref struct StunAttribute
{
    internal StunAttribute(StunAttributeType type, ReadOnlySpan<byte> value, int offset)
    {
        Type = type;
        Value = value;
        Offset = offset;
    }

    /// <summary>The attribute type.</summary>
    public StunAttributeType Type { get; }

    /// <summary>The value, without padding.</summary>
    public ReadOnlySpan<byte> Value { get; }

    /// <summary>Where the attribute's 4-byte header starts, counted from the start of the message.</summary>
    public int Offset { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Type} ({Value.Length} bytes)";

    // Reads the attribute header at offset within message[..end]. False if fewer than four bytes remain or the value
    // and its padding run past end (RFC 8489 §14: lengths exclude padding, but the padding must be there).
    internal static bool TryReadAt(ReadOnlySpan<byte> message, int offset, int end, out StunAttributeType type, out int valueLength)
    {
        if (offset < 0 || end > message.Length || end - offset < 4)
        {
            type = default;
            valueLength = 0;
            return false;
        }

        type = (StunAttributeType)BinaryPrimitives.ReadUInt16BigEndian(message[offset..]);
        valueLength = BinaryPrimitives.ReadUInt16BigEndian(message[(offset + 2)..]);
        return StunHeader.Pad4(valueLength) <= end - offset - 4;
    }
}

/// <summary>
/// Walks attributes in wire order without allocating; optionally only those of one type. A view, valid only while
/// the buffer is. Use with <c>foreach</c>.
/// </summary>
public ref struct StunAttributeEnumerator
{
    private readonly ReadOnlySpan<byte> _message;
    private readonly int _end;
    private readonly StunAttributeType? _only;
    private int _next;
    private StunAttribute _current;

    internal StunAttributeEnumerator(ReadOnlySpan<byte> message, int start, int end, StunAttributeType? only)
    {
        _message = message;
        _next = start;
        _end = end;
        _only = only;
        _current = default;
    }

    /// <summary>The attribute the enumerator is on.</summary>
    public readonly StunAttribute Current => _current;

    /// <summary>This enumerator, for <c>foreach</c>.</summary>
    public readonly StunAttributeEnumerator GetEnumerator() => this;

    /// <summary>Moves to the next attribute; false at the end (or at bytes that are not an attribute).</summary>
    public bool MoveNext()
    {
        while (StunAttribute.TryReadAt(_message, _next, _end, out StunAttributeType type, out int valueLength))
        {
            int offset = _next;
            _next += 4 + StunHeader.Pad4(valueLength); // always advances: every attribute is at least four bytes
            if (_only is null || _only == type)
            {
                _current = new StunAttribute(type, _message.Slice(offset + 4, valueLength), offset);
                return true;
            }
        }

        _next = _end;
        return false;
    }
}
