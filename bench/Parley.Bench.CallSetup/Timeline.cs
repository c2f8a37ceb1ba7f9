using System.Globalization;
using Microsoft.Playwright;

namespace Parley.Bench.CallSetup;

/// <summary>
/// Where one run's time goes: both pages record, on the wall clock (performance.timeOrigin + now), each signaling
/// message sent and received, each RTCPeerConnection step (constructor, set/create descriptions, candidates, ICE
/// and connection states, tracks) and each long animation frame with the scripts in it. After the run the two
/// records are merged into one list, in ms after the click. A diagnostic: the wrapping costs the pages a little.
/// </summary>
internal static class Timeline
{
    private const string Recorder = """
        () => {
          if (window.__timeline) return;
          const log = window.__timeline = [];
          const at = () => performance.timeOrigin + performance.now();
          const mark = (what) => log.push([at(), what]);
          const proto = RTCPeerConnection.prototype;
          for (const method of ['setLocalDescription', 'setRemoteDescription', 'createOffer', 'createAnswer']) {
            const original = proto[method];
            proto[method] = function (...args) {
              const kind = args[0]?.type ?? 'implicit';
              mark(`${method} ${kind} >`);
              const result = original.apply(this, args);
              result.then(() => mark(`${method} ${kind} <`), () => mark(`${method} ${kind} failed`));
              return result;
            };
          }
          const Original = window.RTCPeerConnection;
          const Recorded = function (...args) {
            mark('new RTCPeerConnection >');
            const pc = new Original(...args);
            mark('new RTCPeerConnection <');
            pc.addEventListener('icecandidate', (e) => mark(`candidate ${e.candidate ? `${e.candidate.type}/${e.candidate.protocol}` : 'end'}`));
            pc.addEventListener('iceconnectionstatechange', () => mark(`ice ${pc.iceConnectionState}`));
            pc.addEventListener('connectionstatechange', () => mark(`connection ${pc.connectionState}`));
            pc.addEventListener('track', (e) => mark(`track ${e.track.kind}`));
            return pc;
          };
          Recorded.prototype = Original.prototype;
          window.RTCPeerConnection = Recorded;
          const parse = JSON.parse;
          const quiet = (type) => type === 'ping' || type === 'pong';
          const send = WebSocket.prototype.send;
          WebSocket.prototype.send = function (data) {
            try { const type = parse(data).type; if (!quiet(type)) mark(`ws > ${type}`); } catch { }
            return send.call(this, data);
          };
          // Incoming messages: the library parses each one with JSON.parse.
          JSON.parse = function (text, reviver) {
            const value = parse(text, reviver);
            if (typeof value?.type === 'string' && !quiet(value.type)) mark(`ws < ${value.type}`);
            return value;
          };
          document.querySelector('#join').addEventListener('click', () => mark('click'), { capture: true });
          new PerformanceObserver((list) => {
            for (const frame of list.getEntries()) {
              if (frame.duration < 15) continue;
              const scripts = (frame.scripts ?? []).filter((s) => s.duration >= 3)
                .map((s) => `${s.invoker}@${(s.sourceURL ?? '').split('/').pop()} ${s.duration.toFixed(0)} ms`).join(', ');
              log.push([performance.timeOrigin + frame.startTime, `long frame ${frame.duration.toFixed(0)} ms ${scripts}`]);
            }
          }).observe({ type: 'long-animation-frame' });
        }
        """;

    private const string Entries = "() => window.__timeline.map(([at, what]) => ({ at, what }))";

    private const string DecodedAt = """
        () => window.__callSetup.then((r) => performance.timeOrigin + JSON.parse(r).decodedAt)
        """;

    public static async Task InstallAsync(IPage first, IPage second)
    {
        await first.EvaluateAsync(Recorder);
        await second.EvaluateAsync(Recorder);
    }

    /// <summary>Appends the run to <paramref name="path"/>: "A" is the page in the room, "B" the one that joined.</summary>
    public static async Task AppendAsync(string path, IPage first, IPage second)
    {
        var decodedAt = await second.EvaluateAsync<double>(DecodedAt);
        // Late entries (the answerer's candidates, states) still come in after the frame: give them a moment.
        await Task.Delay(200);
        var entries = (await first.EvaluateAsync<Entry[]>(Entries)).Select(e => (e.At, Page: 'A', e.What))
            .Concat((await second.EvaluateAsync<Entry[]>(Entries)).Select(e => (e.At, Page: 'B', e.What)))
            .Append((At: decodedAt, Page: 'B', What: "first remote frame decoded"))
            .OrderBy(e => e.At)
            .ToList();
        var clickAt = entries.First(e => e.What == "click").At;
        await using var writer = File.AppendText(path);
        await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"--- run (click at {clickAt:0.0} Unix ms)"));
        foreach (var (at, page, what) in entries.Where(e => e.At >= clickAt && e.At <= decodedAt))
            await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{at - clickAt,8:0.0}  {page}  {what}"));
    }

    // Playwright fills results through a parameterless constructor and setters.
    private sealed class Entry
    {
        public double At { get; set; }

        public string What { get; set; } = "";
    }
}
