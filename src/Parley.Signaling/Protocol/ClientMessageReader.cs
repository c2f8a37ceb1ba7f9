using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Parley.Signaling.Protocol;

/// <summary>Turns one text frame into a client message, or a protocol error. Never throws for bad input.</summary>
public static class ClientMessageReader
{
    private static readonly Dictionary<string, JsonTypeInfo> s_typeInfos = new(StringComparer.Ordinal)
    {
        ["hello"] = ProtocolJsonContext.Default.HelloMessage,
        ["join"] = ProtocolJsonContext.Default.JoinMessage,
        ["leave"] = ProtocolJsonContext.Default.LeaveMessage,
        ["bye"] = ProtocolJsonContext.Default.ByeMessage,
        ["ping"] = ProtocolJsonContext.Default.PingMessage,
        ["media"] = ProtocolJsonContext.Default.MediaMessage,
        ["sdp"] = ProtocolJsonContext.Default.SdpMessage,
        ["candidate"] = ProtocolJsonContext.Default.CandidateMessage,
        ["restart-request"] = ProtocolJsonContext.Default.RestartRequestMessage,
        ["ice-servers"] = ProtocolJsonContext.Default.IceServersRequest,
        ["call-report"] = ProtocolJsonContext.Default.CallReportMessage,
    };

    /// <summary>Whether <paramref name="type"/> is a client message this server knows (metrics label only those).</summary>
    public static bool IsKnownType(string type) => s_typeInfos.ContainsKey(type);

    private const int MaxRidLength = 64;

    /// <summary>Parses <paramref name="utf8"/>; on failure <paramref name="error"/> says why and <paramref name="type"/>/<paramref name="rid"/> carry what could be read.</summary>
    public static bool TryRead(ReadOnlySpan<byte> utf8, out ClientMessage? message, out SignalingError error, out string? type, out string? rid)
    {
        message = null;
        type = null;
        rid = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            error = SignalingError.BadJson;
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                error = SignalingError.BadJson;
                return false;
            }

            if (root.TryGetProperty("rid", out var ridElement))
            {
                if (ridElement.ValueKind != JsonValueKind.String || ridElement.GetString()!.Length > MaxRidLength)
                {
                    error = SignalingError.BadMessage("'rid' must be a string of at most 64 characters.");
                    return false;
                }
                rid = ridElement.GetString();
            }

            if (!root.TryGetProperty("type", out var typeElement) || typeElement.ValueKind != JsonValueKind.String)
            {
                error = SignalingError.BadMessage("The message needs a string field 'type'.");
                return false;
            }

            type = typeElement.GetString()!;
            if (!s_typeInfos.TryGetValue(type, out var typeInfo))
            {
                type = type.Length > 32 ? type[..32] : type;
                error = SignalingError.UnknownType;
                return false;
            }

            try
            {
                message = (ClientMessage?)root.Deserialize(typeInfo);
            }
            catch (JsonException e)
            {
                error = SignalingError.BadMessage(DescribeJsonError(type, e));
                return false;
            }

            if (message is null)
            {
                error = SignalingError.BadJson;
                return false;
            }

            error = default;
            return true;
        }
    }

    // System.Text.Json's messages name the CLR type; say it in protocol terms instead.
    private static string DescribeJsonError(string type, JsonException e) =>
        e.Path is { Length: > 2 } path
            ? $"'{type}' has a missing or invalid field at {path}."
            : $"'{type}' is missing a required field or has a field of the wrong type.";
}
