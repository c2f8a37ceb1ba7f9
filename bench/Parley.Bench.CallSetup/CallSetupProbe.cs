namespace Parley.Bench.CallSetup;

/// <summary>
/// Script installed in the joining page before Join is clicked. It timestamps, on the page's own clock
/// (performance.now()), the click event, the call view appearing, the first remote video frame decoded (the
/// frame's receiveTime + processingDuration from requestVideoFrameCallback's metadata) and presented (the
/// callback itself), so neither Playwright's round trips nor polling intervals are measured.
/// </summary>
internal static class CallSetupProbe
{
    public const string Install = """
        () => {
          window.__callSetup = new Promise((resolve, reject) => {
            let clickAt = null;
            let inCallAt = null;
            const watched = new WeakSet();
            const timer = setTimeout(() => reject(new Error('no remote video frame within 20 s')), 20000);
            document.querySelector('#join').addEventListener('click', e => { clickAt = e.timeStamp; }, { capture: true, once: true });
            const observer = new MutationObserver(() => {
              const call = document.querySelector('#call');
              // Only the attribute: asking for layout (getClientRects) at every mutation cost the page ~20 ms.
              if (inCallAt === null && clickAt !== null && call && !call.hidden)
                inCallAt = performance.now();
              // A remote tile's <video> may appear (or be replaced) at any time: watch every one.
              for (const video of document.querySelectorAll('#tiles .tile:not(.local) video')) {
                if (watched.has(video)) continue;
                watched.add(video);
                video.requestVideoFrameCallback((now, metadata) => {
                  clearTimeout(timer);
                  observer.disconnect();
                  // For WebRTC video, receiveTime + processingDuration is when the frame finished decoding.
                  const decodedAt = metadata.receiveTime !== undefined
                    ? metadata.receiveTime + (metadata.processingDuration ?? 0) * 1000 : null;
                  resolve(JSON.stringify({ clickAt, inCallAt, frameAt: now, decodedAt }));
                });
              }
            });
            observer.observe(document.body, { childList: true, subtree: true, attributes: true });
          });
        }
        """;

    public const string Result = "() => window.__callSetup";

    /// <summary>The probe's rejection message when the call never showed a remote frame.</summary>
    public const string NoFrame = "no remote video frame within 20 s";
}
