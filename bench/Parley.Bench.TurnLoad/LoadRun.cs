using System.Diagnostics;
using System.Globalization;
using Parley.Stun;

namespace Parley.Bench.TurnLoad;

/// <summary>
/// Runs one scenario: set up every allocation, send for warm-up plus duration, drain, tear down, and measure.
/// Everything is bounded: setup by request timeouts, traffic by the window, drain by one second, teardown by two.
/// </summary>
internal static class LoadRun
{
    private static readonly TimeSpan s_drain = TimeSpan.FromSeconds(1);

    public static async Task<LoadResult> RunAsync(LoadOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        string startedUtc = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        MeasurementWindow window = new();
        using EchoPeer echo = new(window, dataOffset: options.SelfTest ? ChannelData.HeaderLength : 0);
        List<TurnAllocationClient> clients = [];
        List<Task> receiveLoops = [];
        try
        {
            // 1. Setup: Allocate (401, then authenticated), CreatePermission, ChannelBind, a few at a time.
            Stopwatch setupClock = Stopwatch.StartNew();
            int setupErrors = 0;
            string? firstSetupError = null;
            using SemaphoreSlim gate = new(options.SetupConcurrency);
            Task[] setups = new Task[options.Allocations];
            Lock clientsLock = new();
            for (int i = 0; i < options.Allocations; i++)
            {
                int index = i;
                setups[i] = Task.Run(async () =>
                {
                    await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                    TurnAllocationClient? client = null;
                    try
                    {
                        (client, Task loop) = await TurnAllocationClient.ConnectAsync(options, index, window, echo.EndPoint, cancellationToken)
                            .ConfigureAwait(false);
                        lock (clientsLock)
                        {
                            receiveLoops.Add(loop);
                        }

                        if (!options.SelfTest)
                        {
                            await client.SetUpAsync(options.Lifetime, cancellationToken).ConfigureAwait(false);
                        }

                        lock (clientsLock)
                        {
                            clients.Add(client);
                        }
                    }
                    catch (Exception e) when (e is TurnErrorException or TimeoutException or System.Net.Sockets.SocketException)
                    {
                        client?.Dispose();
                        Interlocked.Increment(ref setupErrors);
                        Interlocked.CompareExchange(ref firstSetupError, e.Message, null);
                    }
                    finally
                    {
                        gate.Release();
                    }
                }, cancellationToken);
            }

            await Task.WhenAll(setups).ConfigureAwait(false);
            double setupSeconds = setupClock.Elapsed.TotalSeconds;
            log.WriteLine(FormattableString.Invariant(
                $"{options.Label}: {clients.Count}/{options.Allocations} allocations ready in {setupSeconds:F2} s, lifetime {(clients.Count == 0 ? 0 : clients.Min(c => c.GrantedLifetime.TotalSeconds))} s{(firstSetupError is null ? "" : $"; first error: {firstSetupError}")}"));
            if (clients.Count == 0)
            {
                throw new TurnErrorException($"No allocation could be set up: {firstSetupError}");
            }

            TurnAllocationClient[] ready = [.. clients];
            HashSet<int> toolPorts = [echo.EndPoint.Port, .. options.Transport == ClientTransport.Udp ? ready.Select(c => c.LocalPort) : []];
            Dictionary<long, (bool Tool, long Drops)> dropsBefore = ProcStats.ReadUdpDrops(toolPorts);

            // 2. Traffic: warm-up, then the measured window.
            long start = Stopwatch.GetTimestamp() + (long)(options.Warmup.TotalSeconds * Stopwatch.Frequency);
            long end = start + (long)(options.Duration.TotalSeconds * Stopwatch.Frequency);
            window.Set(start, end);
            window.Sending = true;
            Thread pacer = new(() => Pace(options, ready, window)) { IsBackground = true, Name = "pacer" };
            pacer.Start();
            using CancellationTokenSource maintenanceStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            int refreshErrors = 0;
            Task maintenance = options.SelfTest ? Task.CompletedTask : MaintainAsync(options, ready, () => Interlocked.Increment(ref refreshErrors), maintenanceStop.Token);

            await Task.Delay(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), start), cancellationToken).ConfigureAwait(false);
            CpuSample before = CpuSample.Take(options.ServerPid, atEnd: false);
            await Task.Delay(Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), end), cancellationToken).ConfigureAwait(false);
            CpuSample after = CpuSample.Take(options.ServerPid, atEnd: true);
            window.Sending = false;
            pacer.Join(TimeSpan.FromSeconds(2));

            // 3. Drain: wait for the window's packets still in flight, at most one second.
            long drainUntil = Stopwatch.GetTimestamp() + (long)(s_drain.TotalSeconds * Stopwatch.Frequency);
            while (Stopwatch.GetTimestamp() < drainUntil && ready.Sum(c => c.ReceivedInWindow) < ready.Sum(c => c.SentInWindow))
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }

            (long Tool, long Others) drops = ProcStats.UdpDropsBetween(dropsBefore, ProcStats.ReadUdpDrops(toolPorts));
            await maintenanceStop.CancelAsync().ConfigureAwait(false);
            await maintenance.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            (long RssKib, long PeakRssKib)? memory = options.ServerPid is int pid ? ProcStats.TryReadMemory(pid) : null;

            // 4. Teardown: free the relayed ports (best effort, two seconds).
            using (CancellationTokenSource teardown = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                teardown.CancelAfter(TimeSpan.FromSeconds(2));
                await Task.WhenAll(ready.Where(_ => !options.SelfTest).Select(c => c.DeallocateAsync(teardown.Token))).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }

            LoadResult result = Summarize(options, startedUtc, ready, echo, before, after, setupErrors, firstSetupError, setupSeconds, refreshErrors, memory);
            return result with
            {
                ToolSocketDrops = drops.Tool,
                ServerSocketDrops = drops.Others,
            };
        }
        finally
        {
            foreach (TurnAllocationClient client in clients)
            {
                client.Dispose();
            }

            await Task.WhenAll(receiveLoops).WaitAsync(TimeSpan.FromSeconds(2), CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// The sender thread. Paced: allocation i sends packet k at start + (k + i/N) / rate, so the allocations'
    /// packets are spread over each period; a sender starved for more than a second (a busy machine) skips ahead
    /// rather than bursting, which shows as <see cref="LoadResult.OfferedPercent"/> under 100.
    /// Unthrottled: fill each window once, then echoes drive the sends; refill an allocation silent for 200 ms.
    /// </summary>
    private static void Pace(LoadOptions options, TurnAllocationClient[] clients, MeasurementWindow window)
    {
        long frequency = Stopwatch.Frequency;
        long hardStop = window.End + frequency; // a bound even if Sending is never cleared
        if (options.Rate == 0)
        {
            foreach (TurnAllocationClient client in clients)
            {
                for (int k = 0; k < options.Window; k++)
                {
                    client.SendData();
                }
            }

            while (window.Sending && Stopwatch.GetTimestamp() < hardStop)
            {
                Thread.Sleep(50);
                long silentSince = Stopwatch.GetTimestamp() - (frequency / 5);
                foreach (TurnAllocationClient client in clients)
                {
                    if (client.LastReceiveTimestamp < silentSince && window.Sending)
                    {
                        for (int k = 0; k < options.Window; k++)
                        {
                            client.SendData();
                        }
                    }
                }
            }

            return;
        }

        double ticksPerPacket = (double)frequency / options.Rate;
        long maxBehind = options.Rate;
        long origin = Stopwatch.GetTimestamp();
        long[] sent = new long[clients.Length];
        while (window.Sending && Stopwatch.GetTimestamp() < hardStop)
        {
            long elapsed = Stopwatch.GetTimestamp() - origin;
            for (int i = 0; i < clients.Length; i++)
            {
                double offset = ticksPerPacket * i / clients.Length;
                long due = elapsed < offset ? 0 : (long)((elapsed - offset) / ticksPerPacket) + 1;
                if (due - sent[i] > maxBehind)
                {
                    sent[i] = due - 1;
                }

                for (; sent[i] < due; sent[i]++)
                {
                    clients[i].SendData();
                }
            }

            Thread.Sleep(1);
        }
    }

    /// <summary>Refreshes each allocation at half its granted lifetime, and at least every 120 s (permissions last 300 s).</summary>
    private static async Task MaintainAsync(LoadOptions options, TurnAllocationClient[] clients, Action onError, CancellationToken cancellationToken)
    {
        DateTime[] due = [.. clients.Select(c => DateTime.UtcNow + Interval(options, c))];
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            List<Task> refreshes = [];
            for (int i = 0; i < clients.Length && !cancellationToken.IsCancellationRequested; i++)
            {
                if (DateTime.UtcNow < due[i])
                {
                    continue;
                }

                TurnAllocationClient client = clients[i];
                refreshes.Add(Task.Run(async () =>
                {
                    try
                    {
                        await client.RefreshAsync(options.Lifetime, cancellationToken).ConfigureAwait(false);
                    }
                    catch (Exception e) when (e is TurnErrorException or TimeoutException or System.Net.Sockets.SocketException)
                    {
                        onError();
                    }
                }, CancellationToken.None));
                due[i] = DateTime.UtcNow + Interval(options, client);
            }

            await Task.WhenAll(refreshes).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        static TimeSpan Interval(LoadOptions options, TurnAllocationClient client) =>
            options.RefreshEvery ?? TimeSpan.FromSeconds(Math.Clamp(client.GrantedLifetime.TotalSeconds / 2, 1, 120));
    }

    private static LoadResult Summarize(LoadOptions options, string startedUtc, TurnAllocationClient[] clients, EchoPeer echo,
        CpuSample before, CpuSample after, int setupErrors, string? firstSetupError, double setupSeconds, int refreshErrors,
        (long RssKib, long PeakRssKib)? memory)
    {
        LatencyHistogram latency = new();
        foreach (TurnAllocationClient client in clients)
        {
            latency.Add(client.Latency);
        }

        double seconds = options.Duration.TotalSeconds;
        long sent = clients.Sum(c => c.SentInWindow);
        long received = clients.Sum(c => c.ReceivedInWindow);
        long peerReceived = echo.ReceivedInWindow;
        long relayed = peerReceived + received;
        double wall = (after.Timestamp - before.Timestamp) / (double)Stopwatch.Frequency;
        double? serverCpu = after.ServerCpu - before.ServerCpu;
        double machineTotal = after.MachineTotal - before.MachineTotal;
        return new LoadResult
        {
            Label = options.Label,
            Server = options.SelfTest ? "none (self-test)" : $"{options.Transport.ToString().ToLowerInvariant()}://{options.Server}",
            Transport = options.Transport.ToString().ToLowerInvariant(),
            Allocations = options.Allocations,
            Rate = options.Rate,
            Window = options.Rate == 0 ? options.Window : 0,
            Size = options.Size,
            DurationSeconds = seconds,
            StartedUtc = startedUtc,
            AllocationsReady = clients.Length,
            SetupErrors = setupErrors,
            FirstSetupError = firstSetupError,
            SetupSeconds = Math.Round(setupSeconds, 3),
            Refreshes = clients.Sum(c => c.Refreshes),
            RefreshErrors = refreshErrors,
            Sent = sent,
            PeerReceived = peerReceived,
            Received = received,
            LossPercent = Percent(sent - received, sent),
            OutboundLossPercent = Percent(sent - peerReceived, sent),
            RoundTripsPerSecond = Math.Round(received / seconds, 1),
            RelayedPacketsPerSecond = Math.Round(relayed / seconds, 1),
            RelayedMbitPerSecond = Math.Round(relayed * (double)options.Size * 8 / seconds / 1e6, 2),
            P50Microseconds = latency.GetPercentile(50),
            P90Microseconds = latency.GetPercentile(90),
            P99Microseconds = latency.GetPercentile(99),
            MaxMicroseconds = latency.MaxMicroseconds,
            ServerPid = options.ServerPid,
            ServerCpuSeconds = serverCpu is double cpu ? Math.Round(cpu, 2) : null,
            ServerCpuPercent = serverCpu is double c1 ? Math.Round(100 * c1 / wall, 1) : null,
            ServerCpuSecondsPerMillionPackets = serverCpu is double c2 && relayed > 0 ? Math.Round(c2 / relayed * 1e6, 3) : null,
            ServerRssKib = memory?.RssKib,
            ServerPeakRssKib = memory?.PeakRssKib,
            OfferedPercent = options.Rate == 0 ? null : Percent(sent, (long)(options.Rate * (double)clients.Length * seconds)),
            ClientCpuPercent = Math.Round(100 * (after.ClientCpu - before.ClientCpu) / wall, 1),
            ClientAllocatedBytesPerRoundTrip = received == 0 ? 0 : Math.Round((after.ClientAllocatedBytes - before.ClientAllocatedBytes) / (double)received, 3),
            LoadAverage = ProcStats.ReadLoadAverage(),
            MachineBusyPercent = machineTotal > 0 ? Math.Round(100 * (after.MachineBusy - before.MachineBusy) / machineTotal, 1) : 0,
            MachineCores = Environment.ProcessorCount,
            SendErrors = clients.Sum(c => c.SendErrors) + echo.SendErrors,
            UnexpectedPackets = clients.Sum(c => c.UnexpectedPackets),
        };

        static double Percent(long part, long whole) => whole == 0 ? 0 : Math.Round(100.0 * part / whole, 3);
    }

    private readonly record struct CpuSample(long Timestamp, double? ServerCpu, double ClientCpu, long MachineBusy, long MachineTotal,
        long ClientAllocatedBytes)
    {
        /// <summary>The allocation count is read after the /proc reads at the start and before them at the end, so they are not counted.</summary>
        public static CpuSample Take(int? serverPid, bool atEnd)
        {
            long allocatedAtEnd = atEnd ? GC.GetTotalAllocatedBytes(precise: true) : 0;
            (long busy, long total) = ProcStats.ReadMachineCpu();
            CpuSample sample = new(Stopwatch.GetTimestamp(), serverPid is int pid ? ProcStats.TryReadCpuSeconds(pid) : null,
                ProcStats.TryReadCpuSeconds(Environment.ProcessId) ?? 0, busy, total, allocatedAtEnd);
            return atEnd ? sample : sample with { ClientAllocatedBytes = GC.GetTotalAllocatedBytes(precise: true) };
        }
    }
}
