using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Parley.Signaling;

/// <summary>
/// When the app starts stopping, closes every socket with 1001 so clients reconnect and resume (after the restart,
/// or on another node). It must run at ApplicationStopping: the server then waits for open requests, and an open
/// WebSocket would otherwise hold shutdown until its timeout.
/// </summary>
internal sealed class SignalingShutdown(IServiceProvider services, IHostApplicationLifetime lifetime) : IHostedService
{
    private CancellationTokenRegistration _registration;
    private SignalingHub? _hub;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Resolved here, not in the constructor: hosted services are built before options are validated, and
        // startup should report every configuration problem at once rather than fail on the hub's options first.
        _hub = services.GetRequiredService<SignalingHub>();
        _registration = lifetime.ApplicationStopping.Register(_hub.Shutdown);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _registration.Dispose();
        _hub?.Shutdown();
        return Task.CompletedTask;
    }
}
