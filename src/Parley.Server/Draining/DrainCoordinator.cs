using Microsoft.Extensions.Options;
using Parley.Signaling;
using Parley.Turn;
using Parley.Turn.Hosting;

namespace Parley.Server.Draining;

/// <summary>Where the process is in its life, as <c>/readyz</c> reports it.</summary>
public enum DrainState
{
    /// <summary>Listeners not all bound yet.</summary>
    Starting,

    /// <summary>Ready for traffic.</summary>
    Serving,

    /// <summary>Stopping: new signaling sessions and TURN allocations refused, existing allocations relaying.</summary>
    Draining,

    /// <summary>The drain is over; listeners are closing.</summary>
    Stopped,
}

/// <summary>
/// Serving → draining → stopped. A stop (SIGTERM, <c>StopAsync</c>) starts the drain at once: signaling sockets
/// are closed with 1001 (clients reconnect and resume, here after the restart or on another node), new sessions
/// are refused, the TURN server takes no new allocations. The host's stop then waits, before any listener
/// closes, until the last TURN allocation is gone or <see cref="DrainOptions.TurnGrace"/> has passed.
/// </summary>
internal sealed partial class DrainCoordinator(
    IServiceProvider services, IHostApplicationLifetime lifetime, TimeProvider time, ILogger<DrainCoordinator> logger)
    : IHostedLifecycleService
{
    private static readonly TimeSpan s_pollInterval = TimeSpan.FromMilliseconds(100);
    private readonly Lock _gate = new();
    private DrainState _state = DrainState.Starting;
    private bool _webStarted;
    private CancellationTokenRegistration _onStarted;
    private CancellationTokenRegistration _onStopping;
    private DrainOptions _options = new();
    private TurnServer? _turn;
    private TurnEndpoints? _turnEndpoints;
    private SignalingHub? _hub;

    /// <summary>Starting until the web and TURN listeners are bound; serving; then draining and stopped.</summary>
    public DrainState State
    {
        get
        {
            lock (_gate)
            {
                if (_state == DrainState.Starting && _webStarted && _turnEndpoints is { Started.IsCompletedSuccessfully: true })
                    _state = DrainState.Serving;
                return _state;
            }
        }
    }

    public bool IsDraining => State is DrainState.Draining or DrainState.Stopped;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Resolved here rather than in the constructor so that startup reports every configuration problem at once.
        _options = services.GetRequiredService<IOptions<DrainOptions>>().Value;
        _hub = services.GetRequiredService<SignalingHub>();
        _turnEndpoints = services.GetRequiredService<TurnEndpoints>();
        if (services.GetRequiredService<IOptions<TurnOptions>>().Value.Enabled)
            _turn = services.GetRequiredService<TurnServer>();
        _onStarted = lifetime.ApplicationStarted.Register(() =>
        {
            lock (_gate)
                _webStarted = true;
        });
        // SIGTERM raises ApplicationStopping before the host's stop sequence runs: start draining right then.
        _onStopping = lifetime.ApplicationStopping.Register(BeginDrain);
        return Task.CompletedTask;
    }

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Runs before any hosted service (Kestrel, TURN) stops: the listeners stay up for the whole drain.</summary>
    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        BeginDrain();
        var started = time.GetTimestamp();
        try
        {
            while (_turn is { AllocationCount: > 0 } && time.GetElapsedTime(started) < _options.TurnGrace)
                await Task.Delay(s_pollInterval, time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The host's ShutdownTimeout ran out first: stop now.
        }
        Log.DrainEnded(logger, _turn?.AllocationCount ?? 0, time.GetElapsedTime(started).TotalSeconds);
        lock (_gate)
            _state = DrainState.Stopped;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken)
    {
        _onStarted.Dispose();
        _onStopping.Dispose();
        return Task.CompletedTask;
    }

    private void BeginDrain()
    {
        // Under the lock: SIGTERM's callback and the host's stop may race here, and neither may go on before it is done.
        lock (_gate)
        {
            if (_state is DrainState.Draining or DrainState.Stopped)
                return;
            _state = DrainState.Draining;
            Log.DrainStarted(logger, _turn?.AllocationCount ?? 0, _options.TurnGrace.TotalSeconds);
            _turn?.BeginDraining();
            _hub?.Shutdown();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(3100, LogLevel.Information, "Draining: new sessions refused, clients told to reconnect; waiting up to {GraceSeconds} s for {Allocations} TURN allocations")]
        public static partial void DrainStarted(ILogger logger, int allocations, double graceSeconds);

        [LoggerMessage(3101, LogLevel.Information, "Drain over after {Seconds:0.0} s ({Allocations} TURN allocations left); stopping")]
        public static partial void DrainEnded(ILogger logger, int allocations, double seconds);
    }
}
