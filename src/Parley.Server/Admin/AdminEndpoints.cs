using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Parley.Signaling;
using Parley.Turn;

namespace Parley.Server.Admin;

/// <summary>
/// The admin API under <c>/admin</c>: list rooms and TURN allocations, close a room, disconnect a session.
/// Mapped only when <c>Admin:Token</c> is set; every call needs <c>Authorization: Bearer &lt;token&gt;</c>.
/// </summary>
internal static partial class AdminEndpoints
{
    public static void AddParleyAdmin(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdminOptions>().Bind(builder.Configuration.GetSection(AdminOptions.SectionName)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AdminOptions>, AdminOptionsValidator>();
        builder.Services.AddSingleton<AdminGuard>();
    }

    public static void MapParleyAdmin(this WebApplication app)
    {
        // Read once, from configuration (validation runs at start): the admin API exists or not for the process's life.
        if (string.IsNullOrEmpty(app.Configuration[$"{AdminOptions.SectionName}:{nameof(AdminOptions.Token)}"]))
            return;

        var admin = app.MapGroup("/admin").AddEndpointFilter(RequireToken);
        admin.MapGet("/rooms", ListRooms);
        admin.MapDelete("/rooms/{room}", CloseRoom);
        admin.MapDelete("/sessions/{peerId}", DisconnectSession);
        admin.MapGet("/turn/allocations", ListAllocations);
    }

    private static async ValueTask<object?> RequireToken(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var guard = context.RequestServices.GetRequiredService<AdminGuard>();
        switch (guard.Check(context, out var retryAfter))
        {
            case AdminGuard.Verdict.Allowed:
                return await next(invocation);
            case AdminGuard.Verdict.Blocked:
                context.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                return Problem(StatusCodes.Status429TooManyRequests, "too-many-failures", "Too many wrong tokens from this address; wait and try again.");
            case AdminGuard.Verdict.Wrong:
                // RFC 6750 §3.1: a token that does not match is invalid_token, answered with 401 like a missing one.
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"parley-admin\", error=\"invalid_token\"";
                return Problem(StatusCodes.Status401Unauthorized, "invalid-token", "The admin token is not correct.");
            default:
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"parley-admin\"";
                return Problem(StatusCodes.Status401Unauthorized, "token-required", "Send the admin token as 'Authorization: Bearer <token>'.");
        }
    }

    private static IResult ListRooms(SignalingHub hub, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var rooms = hub.SnapshotRooms().Select(r =>
        {
            var startedAt = DateTimeOffset.FromUnixTimeMilliseconds(r.CallStartedAtMs);
            return new AdminRoom(
                r.Name,
                r.Members.Count,
                r.Members.Count(m => m.Away),
                r.Capacity,
                r.PasswordProtected,
                startedAt,
                Math.Max(0, (long)(now - startedAt).TotalSeconds),
                [.. r.Members.Select(m => new AdminMember(m.PeerId, DateTimeOffset.FromUnixTimeMilliseconds(m.JoinedAtMs), m.Away))]);
        }).ToList();
        return Results.Json(new AdminRooms(rooms), AdminJsonContext.Default.AdminRooms);
    }

    private static IResult CloseRoom(string room, SignalingHub hub) =>
        hub.CloseRoom(room) ? Results.NoContent() : Problem(StatusCodes.Status404NotFound, "unknown-room", "There is no room with that name.");

    private static IResult DisconnectSession(string peerId, SignalingHub hub) =>
        hub.DisconnectSession(peerId) ? Results.NoContent() : Problem(StatusCodes.Status404NotFound, "unknown-session", "There is no session with that peer id.");

    private static IResult ListAllocations(IServiceProvider services, IOptions<TurnOptions> turn)
    {
        if (!turn.Value.Enabled)
            return Results.Json(new AdminAllocations(false, false, 0, []), AdminJsonContext.Default.AdminAllocations);
        var server = services.GetRequiredService<TurnServer>();
        var allocations = server.SnapshotAllocations().Select(a => new AdminAllocation(
            a.Id, a.UserId, a.Protocol.ToString().ToLowerInvariant(), a.RelayAddresses,
            Math.Round(a.Age.TotalSeconds, 1), Math.Round(a.ExpiresIn.TotalSeconds, 1), a.Permissions, a.Channels)).ToList();
        return Results.Json(new AdminAllocations(true, server.IsDraining, allocations.Count, allocations), AdminJsonContext.Default.AdminAllocations);
    }

    private static IResult Problem(int status, string error, string message) =>
        Results.Json(new AdminError(error, message), AdminJsonContext.Default.AdminError, statusCode: status);
}

internal sealed record AdminError(string Error, string Message);

internal sealed record AdminRooms(IReadOnlyList<AdminRoom> Rooms);

internal sealed record AdminRoom(
    string Name, int Participants, int Away, int Capacity, bool PasswordProtected,
    DateTimeOffset CallStartedAt, long CallDurationSeconds, IReadOnlyList<AdminMember> Members);

internal sealed record AdminMember(string PeerId, DateTimeOffset JoinedAt, bool Away);

internal sealed record AdminAllocations(bool Enabled, bool Draining, int Count, IReadOnlyList<AdminAllocation> Allocations);

internal sealed record AdminAllocation(
    long Id, string UserId, string Protocol, IReadOnlyList<string> RelayAddresses,
    double AgeSeconds, double ExpiresInSeconds, int Permissions, int Channels);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(AdminError))]
[JsonSerializable(typeof(AdminRooms))]
[JsonSerializable(typeof(AdminAllocations))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;
