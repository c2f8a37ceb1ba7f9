using System.Text.Json;
using Microsoft.Playwright;

namespace Parley.EndToEnd.Infrastructure;

/// <summary>
/// One participant: a fresh browser context and page on the Parley app, driven through the UI test
/// contract (lobby/call element ids and the <c>window.parley</c> hooks).
/// </summary>
internal sealed class CallPage : IAsyncDisposable
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    private readonly Lock _gate = new();
    private readonly List<string> _log = [];
    private readonly List<string> _errors = [];
    private int _webSockets;

    private CallPage(IBrowserContext context, IPage page, string name)
    {
        Context = context;
        Page = page;
        Name = name;
        page.Console += (_, message) => Record($"console.{message.Type}: {message.Text}", message.Type == "error");
        page.PageError += (_, error) => Record($"uncaught: {error}", isError: true);
        // A "leave this call?" prompt must not keep a tab open that the test closes.
        page.Dialog += async (_, dialog) =>
        {
            try
            {
                await dialog.AcceptAsync();
            }
            catch (PlaywrightException)
            {
                // The page went away first: nothing left to accept.
            }
        };
        // The signaling conversation, for reading a failure; heartbeats are left out.
        page.WebSocket += (_, socket) =>
        {
            Interlocked.Increment(ref _webSockets);
            socket.FrameSent += (_, frame) => RecordFrame(">>", frame.Text);
            socket.FrameReceived += (_, frame) => RecordFrame("<<", frame.Text);
            socket.Close += (_, _) => Record("websocket closed", isError: false);
        };
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    /// <summary>Display name typed into the lobby.</summary>
    public string Name { get; }

    /// <summary>Console output, uncaught errors and signaling messages, for diagnosing a failed test.</summary>
    public IReadOnlyList<string> Log
    {
        get
        {
            lock (_gate)
                return [.. _log];
        }
    }

    /// <summary>How many WebSockets the page has opened so far.</summary>
    public int WebSocketCount => Volatile.Read(ref _webSockets);

    /// <summary>How many console errors and uncaught exceptions the page has had so far.</summary>
    public int ErrorCount
    {
        get
        {
            lock (_gate)
                return _errors.Count;
        }
    }

    public static async Task<CallPage> OpenAsync(
        IBrowser browser, Uri url, string name, MediaPermission permission = MediaPermission.CameraAndMicrophone, ViewportSize? viewport = null)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            Permissions = permission switch
            {
                MediaPermission.CameraAndMicrophone => ["camera", "microphone"],
                MediaPermission.MicrophoneOnly => ["microphone"],
                _ => [],
            },
            ViewportSize = viewport ?? new ViewportSize { Width = 960, Height = 600 },
            // HTTPS in tests (nginx in front) uses self-signed certificates.
            IgnoreHTTPSErrors = url.Scheme == Uri.UriSchemeHttps,
        });
        await context.AddInitScriptAsync(PeerConnectionProbe.InitScript);
        var page = await context.NewPageAsync();
        var callPage = new CallPage(context, page, name);
        await page.GotoAsync(url.ToString());
        try
        {
            await page.WaitForFunctionAsync("() => window.parley !== undefined", null, new PageWaitForFunctionOptions { Timeout = 20_000 });
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"window.parley (the UI's test hooks) never appeared on {url}. Page log: {string.Join(" | ", callPage.Log)}", e);
        }
        return callPage;
    }

    /// <summary>Errors logged since <paramref name="mark"/> (a previous <see cref="ErrorCount"/>).</summary>
    public IReadOnlyList<string> ErrorsSince(int mark)
    {
        lock (_gate)
            return [.. _errors.Skip(mark)];
    }

    /// <summary>Fills the lobby, waits for the camera preview as a person would, clicks Join; waits for the call view.</summary>
    public async Task JoinAsync(string? room = null)
    {
        await FillLobbyAsync(room);
        await WaitForPreviewAsync();
        await Page.Locator("#join").ClickAsync();
        await WaitForCallAsync();
    }

    /// <summary>Waits until the lobby preview shows the camera (getUserMedia has succeeded).</summary>
    public async Task WaitForPreviewAsync()
    {
        try
        {
            await Page.WaitForFunctionAsync(
                "() => document.querySelector('#preview')?.videoWidth > 0", null, new PageWaitForFunctionOptions { Timeout = 20_000 });
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{Name}: the lobby preview never showed the camera. Page log: {string.Join(" | ", Log)}", e);
        }
    }

    public async Task FillLobbyAsync(string? room = null)
    {
        await Page.Locator("#name").FillAsync(Name);
        if (room is not null)
            await Page.Locator("#room").FillAsync(room);
    }

    /// <summary>Waits until the lobby's signaling session is open (the app opens it before Join); returns its peer id.</summary>
    public async Task<string> WaitForLobbySessionAsync()
    {
        await Page.WaitForFunctionAsync(
            "() => window.parley.lobbySignalingState() === 'open'", null, new PageWaitForFunctionOptions { Timeout = 20_000 });
        return await Page.EvaluateAsync<string?>("() => window.parley.lobbyPeerId()")
            ?? throw new InvalidOperationException($"{Name}: an open lobby session without a peer id.");
    }

    /// <summary>
    /// Waits until the lobby's prepared first offer is set and has gathered every ICE candidate, as it has after
    /// the seconds a person spends in the lobby; returns the SDP session id of its connection.
    /// </summary>
    public async Task<string> WaitForLobbyOfferAsync()
    {
        await Page.WaitForFunctionAsync(
            "() => window.parley.lobbyOfferState() === 'ready'", null, new PageWaitForFunctionOptions { Timeout = 20_000 });
        return await Page.EvaluateAsync<string?>("() => window.parley.lobbyOfferSessionId()")
            ?? throw new InvalidOperationException($"{Name}: a ready lobby offer without a session id.");
    }

    public Task WaitForCallAsync() =>
        Page.Locator("#call").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Visible, Timeout = 20_000 });

    public ILocator Tile(string peerId) => Page.Locator($"#tiles .tile[data-peer-id=\"{peerId}\"]");

    public Task<string?> PeerIdAsync() => Page.EvaluateAsync<string?>("() => window.parley.peerId()");

    public Task<string> SignalingStateAsync() => Page.EvaluateAsync<string>("() => window.parley.signalingState()");

    public async Task<string[]> PeerIdsAsync() =>
        Deserialize<string[]>(await Page.EvaluateAsync<string>("() => JSON.stringify(window.parley.peerIds())"));

    public async Task<string[]> ConnectionIdsAsync() =>
        Deserialize<string[]>(await Page.EvaluateAsync<string>("() => JSON.stringify(window.parley.connectionIds())"));

    public async Task<IReadOnlyList<PeerStats>> StatsAsync() =>
        Deserialize<PeerStats[]>(await Page.EvaluateAsync<string>("() => window.parley.stats()"));

    /// <summary>The page's open RTCPeerConnections, seen through <see cref="PeerConnectionProbe"/>.</summary>
    public async Task<IReadOnlyList<PeerConnectionState>> PeerConnectionsAsync() =>
        Deserialize<PeerConnectionState[]>(await Page.EvaluateAsync<string>(PeerConnectionProbe.Read));

    public Task RenegotiateAllAsync() => Page.EvaluateAsync("() => window.parley.renegotiateAll()");

    /// <summary>Waits until exactly <paramref name="count"/> remote peers are listed and all satisfy <paramref name="condition"/>.</summary>
    public Task<IReadOnlyList<PeerStats>> WaitForPeersAsync(
        int count, Func<PeerStats, bool> condition, string what, TimeSpan? timeout = null) =>
        Poll.UntilAsync($"{Name}: {what}", StatsAsync, stats => stats.Count == count && stats.All(condition), timeout);

    public ValueTask DisposeAsync() => new(Context.CloseAsync());

    private void Record(string line, bool isError)
    {
        // Wall-clock time, to line up with the test's own steps.
        line = $"{TimeProvider.System.GetLocalNow():HH:mm:ss.fff} {line}";
        lock (_gate)
        {
            _log.Add(line);
            if (isError)
                _errors.Add(line);
        }
    }

    private void RecordFrame(string direction, string? text)
    {
        if (text is null || text.Contains("\"type\":\"ping\"", StringComparison.Ordinal) || text.Contains("\"type\":\"pong\"", StringComparison.Ordinal))
            return;
        Record($"{direction} {(text.Length > 160 ? text[..160] + "…" : text)}", isError: false);
    }

    private static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, s_json) ?? throw new InvalidOperationException($"window.parley returned {json}");
}
