using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Parley.Signaling.Hosting;
using Parley.Signaling.Protocol;

namespace Parley.Signaling;

public static class SignalingEndpointRouteBuilderExtensions
{
    /// <summary>Serves the signaling WebSocket at <paramref name="pattern"/> (needs <c>UseWebSockets()</c>).</summary>
    public static IEndpointConventionBuilder MapSignaling(this IEndpointRouteBuilder endpoints, string pattern)
    {
        return endpoints.Map(pattern, async context =>
        {
            var options = context.RequestServices.GetRequiredService<IOptions<SignalingOptions>>().Value;
            if (!SignalingOrigin.IsAllowed(context.Request, options.AllowedOrigins))
            {
                // Refused before the upgrade: the page's socket fails, and nothing of the server is spent on it.
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsJsonAsync(new OriginRefusal(SignalingError.OriginNotAllowed.Id, SignalingError.OriginNotAllowed.Message),
                    ProtocolJsonContext.Default.OriginRefusal, cancellationToken: context.RequestAborted);
                return;
            }
            if (!context.WebSockets.IsWebSocketRequest)
            {
                context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
                await context.Response.WriteAsync("Parley signaling: connect with a WebSocket.", context.RequestAborted);
                return;
            }

            var hub = context.RequestServices.GetRequiredService<SignalingHub>();
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Parley.Signaling.WebSocket");

            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                // Server-side keep-alive pings keep NATs and proxies from idling the socket out between heartbeats.
                KeepAliveInterval = TimeSpan.FromSeconds(15),
            });
            using var transport = new WebSocketTransport(socket, context.Request.Host.Value, options.SendQueueLength, logger);
            var connection = hub.Connect(transport);
            if (connection is null)
                await transport.FlushAndCloseAsync(context.RequestAborted);
            else
                await transport.RunAsync(connection, options.MaxMessageBytes, context.RequestAborted);
        });
    }
}
