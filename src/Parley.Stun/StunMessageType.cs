namespace Parley.Stun;

/// <summary>STUN methods (RFC 8489 §18.2, RFC 8656 §17). Other values are carried as they are.</summary>
public enum StunMethod : ushort
{
    /// <summary>Binding (RFC 8489).</summary>
    Binding = 0x001,

    /// <summary>Allocate (RFC 8656 §7).</summary>
    Allocate = 0x003,

    /// <summary>Refresh (RFC 8656 §8).</summary>
    Refresh = 0x004,

    /// <summary>Send, indication only (RFC 8656 §11).</summary>
    Send = 0x006,

    /// <summary>Data, indication only (RFC 8656 §11).</summary>
    Data = 0x007,

    /// <summary>CreatePermission (RFC 8656 §10).</summary>
    CreatePermission = 0x008,

    /// <summary>ChannelBind (RFC 8656 §12).</summary>
    ChannelBind = 0x009,
}

/// <summary>STUN message classes (RFC 8489 §5).</summary>
public enum StunClass : byte
{
    /// <summary>Request (C1 C0 = 0b00).</summary>
    Request = 0b00,

    /// <summary>Indication (0b01).</summary>
    Indication = 0b01,

    /// <summary>Success response (0b10).</summary>
    SuccessResponse = 0b10,

    /// <summary>Error response (0b11).</summary>
    ErrorResponse = 0b11,
}

/// <summary>
/// The 14-bit STUN message type: a 12-bit method interleaved with a 2-bit class (RFC 8489 §5, figure 3):
/// <c>M11..M7 C1 M6..M4 C0 M3..M0</c>.
/// </summary>
public readonly record struct StunMessageType(StunMethod Method, StunClass Class)
{
    /// <summary>The type as written in the first two bytes of the header.</summary>
    public ushort Value
    {
        get
        {
            int m = (int)Method;
            int c = (int)Class;
            return (ushort)(((m & 0xF80) << 2) | ((m & 0x070) << 1) | (m & 0x00F) | ((c & 0b10) << 7) | ((c & 0b01) << 4));
        }
    }

    /// <summary>Splits a header's type field into method and class. The top two bits are ignored.</summary>
    public static StunMessageType FromValue(ushort value)
    {
        int method = (value & 0x000F) | ((value & 0x00E0) >> 1) | ((value & 0x3E00) >> 2);
        int @class = ((value >> 7) & 0b10) | ((value >> 4) & 0b01);
        return new StunMessageType((StunMethod)method, (StunClass)@class);
    }

    /// <summary>The success response type for this request's method.</summary>
    public StunMessageType SuccessResponse => this with { Class = StunClass.SuccessResponse };

    /// <summary>The error response type for this request's method.</summary>
    public StunMessageType ErrorResponse => this with { Class = StunClass.ErrorResponse };

    /// <summary>Binding request.</summary>
    public static StunMessageType BindingRequest => new(StunMethod.Binding, StunClass.Request);

    /// <summary>Allocate request.</summary>
    public static StunMessageType AllocateRequest => new(StunMethod.Allocate, StunClass.Request);

    /// <summary>Refresh request.</summary>
    public static StunMessageType RefreshRequest => new(StunMethod.Refresh, StunClass.Request);

    /// <summary>CreatePermission request.</summary>
    public static StunMessageType CreatePermissionRequest => new(StunMethod.CreatePermission, StunClass.Request);

    /// <summary>ChannelBind request.</summary>
    public static StunMessageType ChannelBindRequest => new(StunMethod.ChannelBind, StunClass.Request);

    /// <summary>Send indication (client to server).</summary>
    public static StunMessageType SendIndication => new(StunMethod.Send, StunClass.Indication);

    /// <summary>Data indication (server to client).</summary>
    public static StunMessageType DataIndication => new(StunMethod.Data, StunClass.Indication);

    /// <inheritdoc/>
    public override string ToString() => $"{Method} {Class}";
}
