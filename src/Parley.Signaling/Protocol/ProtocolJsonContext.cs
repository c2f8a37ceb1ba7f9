using System.Text.Json;
using System.Text.Json.Serialization;

namespace Parley.Signaling.Protocol;

/// <summary>Source-generated (reflection-free) JSON for every protocol record.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true,
    NumberHandling = JsonNumberHandling.Strict,
    AllowDuplicateProperties = false)]
[JsonSerializable(typeof(ServerMessage))]
[JsonSerializable(typeof(OriginRefusal))]
[JsonSerializable(typeof(HelloMessage))]
[JsonSerializable(typeof(JoinMessage))]
[JsonSerializable(typeof(LeaveMessage))]
[JsonSerializable(typeof(ByeMessage))]
[JsonSerializable(typeof(PingMessage))]
[JsonSerializable(typeof(MediaMessage))]
[JsonSerializable(typeof(SdpMessage))]
[JsonSerializable(typeof(CandidateMessage))]
[JsonSerializable(typeof(RestartRequestMessage))]
[JsonSerializable(typeof(IceServersRequest))]
[JsonSerializable(typeof(CallReportMessage))]
[JsonSerializable(typeof(ResumeTokenPayload))]
internal sealed partial class ProtocolJsonContext : JsonSerializerContext;
