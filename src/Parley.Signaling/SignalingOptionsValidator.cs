using Microsoft.Extensions.Options;

namespace Parley.Signaling;

/// <summary>Reports every bad setting at once, each with how to fix it, so startup fails fast and usefully.</summary>
public sealed class SignalingOptionsValidator : IValidateOptions<SignalingOptions>
{
    public ValidateOptionsResult Validate(string? name, SignalingOptions options)
    {
        var errors = new List<string>();
        const string S = SignalingOptions.SectionName;

        if (options.RoomCapacity is < 1 or > SignalingOptions.MaxRoomCapacity)
            errors.Add($"{S}:RoomCapacity is {options.RoomCapacity}; use 1 to {SignalingOptions.MaxRoomCapacity} (a full mesh beyond 8 breaks down).");
        foreach (var (room, capacity) in options.RoomCapacities)
        {
            if (capacity is < 1 or > SignalingOptions.MaxRoomCapacity)
                errors.Add($"{S}:RoomCapacities:{room} is {capacity}; use 1 to {SignalingOptions.MaxRoomCapacity}.");
            if (!NameRules.IsValidRoom(room))
                errors.Add($"{S}:RoomCapacities has the key '{room}', which is not a valid room name.");
        }
        for (var i = 0; i < options.AllowedOrigins.Count; i++)
        {
            var origin = options.AllowedOrigins[i];
            if (origin != "*" && !SignalingOrigin.IsOrigin(origin))
                errors.Add($"{S}:AllowedOrigins:{i} is '{origin}'; write an origin such as https://app.example.org (scheme, host and port only), or * for any.");
        }
        if (options.MaxSessions < 1)
            errors.Add($"{S}:MaxSessions is {options.MaxSessions}; use a positive number such as 10000.");
        if (options.HeartbeatInterval < TimeSpan.FromSeconds(1) || options.HeartbeatInterval > TimeSpan.FromSeconds(55))
            errors.Add($"{S}:HeartbeatInterval is {options.HeartbeatInterval}; use 00:00:01 to 00:00:55 so proxies with a 60 s idle timeout keep the socket.");
        if (options.HeartbeatTimeout <= options.HeartbeatInterval)
            errors.Add($"{S}:HeartbeatTimeout ({options.HeartbeatTimeout}) must be longer than HeartbeatInterval ({options.HeartbeatInterval}); use at least twice it.");
        if (options.ResumeGrace < TimeSpan.Zero || options.ResumeGrace > TimeSpan.FromMinutes(10))
            errors.Add($"{S}:ResumeGrace is {options.ResumeGrace}; use 00:00:00 to 00:10:00.");
        if (options.HelloTimeout < TimeSpan.FromSeconds(1))
            errors.Add($"{S}:HelloTimeout is {options.HelloTimeout}; use at least 00:00:01.");
        if (options.MaxMessageBytes is < 16 * 1024 or > 1024 * 1024)
            errors.Add($"{S}:MaxMessageBytes is {options.MaxMessageBytes}; use 16384 to 1048576 (SDP offers need about 10 KiB).");
        if (options.MessagesPerSecond is < 5 or > 10_000)
            errors.Add($"{S}:MessagesPerSecond is {options.MessagesPerSecond}; use 5 to 10000 (ICE gathering sends bursts of about 20).");
        if (options.SendQueueLength is < 16 or > 65_536)
            errors.Add($"{S}:SendQueueLength is {options.SendQueueLength}; use 16 to 65536.");
        if (!string.IsNullOrEmpty(options.ResumeKey) && !ResumeTokenSealer.IsValidKey(options.ResumeKey))
            errors.Add($"{S}:ResumeKey must be base64 of exactly 32 bytes (for example the output of 'openssl rand -base64 32'), or empty to generate one.");

        if (options.TurnCredentialLifetime < TimeSpan.FromMinutes(5) || options.TurnCredentialLifetime > TimeSpan.FromDays(1))
            errors.Add($"{S}:TurnCredentialLifetime is {options.TurnCredentialLifetime}; use 00:05:00 to 1.00:00:00.");

        for (var i = 0; i < options.IceServers.Count; i++)
        {
            var server = options.IceServers[i];
            if (server.Urls.Count == 0)
                errors.Add($"{S}:IceServers:{i}:Urls is empty; give at least one stun:, turn: or turns: URL.");
            foreach (var url in server.Urls)
            {
                if (!(url.StartsWith("stun:", StringComparison.Ordinal) || url.StartsWith("stuns:", StringComparison.Ordinal)
                      || url.StartsWith("turn:", StringComparison.Ordinal) || url.StartsWith("turns:", StringComparison.Ordinal)))
                    errors.Add($"{S}:IceServers:{i}:Urls has '{url}'; ICE URLs start with stun:, stuns:, turn: or turns:.");
            }
            var hasSecret = !string.IsNullOrEmpty(server.SharedSecret);
            var hasStatic = !string.IsNullOrEmpty(server.Username) || !string.IsNullOrEmpty(server.Credential);
            if (hasSecret && hasStatic)
                errors.Add($"{S}:IceServers:{i} has both SharedSecret and Username/Credential; use one (SharedSecret mints short-lived credentials).");
            if (server.Urls.Any(u => u.StartsWith("turn", StringComparison.Ordinal)) && !hasSecret
                && (string.IsNullOrEmpty(server.Username) || string.IsNullOrEmpty(server.Credential)))
                errors.Add($"{S}:IceServers:{i} has a TURN URL but no SharedSecret or Username/Credential; browsers reject TURN servers without credentials.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
