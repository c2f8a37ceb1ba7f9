using Microsoft.Extensions.Hosting;

namespace Parley.Signaling;

/// <summary>
/// When the app starts stopping, closes every socket with 1001 so clients reconnect and resume (after the restart,
/// or on another node). It must run at ApplicationStopping: the server then waits for open requests, and an open
/// WebSocket would otherwise hold shutdown until its timeout.
/// </summary>
internal sealed class SignalingShutdown(SignalingHub hub, IHostApplicationLifetime lifetime) : IHostedService
{
    private CancellationTokenRegistration _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _registration = lifetime.ApplicationStopping.Register(hub.Shutdown);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _registration.Dispose();
        hub.Shutdown();
        return Task.CompletedTask;
    }
}
