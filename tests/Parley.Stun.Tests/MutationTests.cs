using System.Buffers.Binary;
using System.Globalization;
using Xunit.Abstractions;

namespace Parley.Stun.Tests;

/// <summary>
/// Randomized mutation of every message in the corpus (RFC vectors and Chromium captures): truncated, bit-flipped,
/// message-length-lying and attribute-length-lying variants. Proves that the reader, the ChannelData reader, the
/// classifier and the stream framer never throw, only hand out views inside the input, and always terminate.
/// The seed is fixed; set PARLEY_FUZZ_SEED (and PARLEY_FUZZ_ITERATIONS) to explore further. A failure prints the
/// seed, the corpus entry and the mutated bytes: add them to <see cref="FuzzRegressionTests"/>.
/// </summary>
public class MutationTests(ITestOutputHelper output)
{
    private const int DefaultSeed = 5769;
    private const int DefaultIterations = 2000;
    private static readonly byte[] s_key = new byte[16];

    [Fact]
    public void EveryMutationIsReadSafely()
    {
        int seed = ReadEnvironment("PARLEY_FUZZ_SEED", DefaultSeed);
        int iterations = ReadEnvironment("PARLEY_FUZZ_ITERATIONS", DefaultIterations);
        var random = new Random(seed);
        var outcomes = new Dictionary<ReadStatus, int>();
        foreach ((string name, byte[] original) in Corpus.All)
        {
            for (int i = 0; i < iterations; i++)
            {
                byte[] mutated = Mutate(random, original);
                try
                {
                    ReadStatus status = Exercise(mutated);
                    outcomes[status] = outcomes.GetValueOrDefault(status) + 1;
                }
                catch (Exception e)
                {
                    Assert.Fail($"seed {seed}, {name}, iteration {i}: {e.GetType().Name}: {e.Message}\n" +
                        $"bytes: {Convert.ToHexString(mutated)}\n{e.StackTrace}");
                }
            }
        }

        // The mutations must reach every outcome often, or they would prove little about the accessors behind Complete.
        int variants = outcomes.Values.Sum();
        output.WriteLine($"seed {seed}: {variants} variants; " + string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key} {o.Value}")));
        Assert.Equal(Corpus.All.Count() * iterations, variants);
        foreach (ReadStatus status in Enum.GetValues<ReadStatus>())
        {
            Assert.True(outcomes.GetValueOrDefault(status) > variants / 20, $"{status}: {outcomes.GetValueOrDefault(status)} of {variants}");
        }
    }

    [Fact]
    public void TheCorpusItselfReadsCleanly()
    {
        foreach ((string name, byte[] bytes) in Corpus.All)
        {
            PacketKind kind = PacketClassifier.Classify(bytes);
            Assert.True(kind != PacketKind.Unknown, name);
            Assert.Equal(ReadResult.Complete(kind == PacketKind.Stun ? bytes.Length : StunHeader.Pad4(bytes.Length)),
                StreamFramer.TryGetFrame(Pad(bytes), out PacketKind framed));
            Assert.Equal(kind, framed);
            Exercise(bytes);
        }
    }

    /// <summary>Runs every reading entry point over <paramref name="bytes"/>, checks the invariants, and returns what
    /// the STUN reader made of them.</summary>
    internal static ReadStatus Exercise(byte[] bytes)
    {
        ReadOnlySpan<byte> input = bytes;
        PacketClassifier.Classify(input);

        ReadResult result = StunMessage.TryRead(input, out StunMessage message);
        CheckResult(result, input.Length);
        if (result.IsComplete)
        {
            ExerciseMessage(input, message);
        }

        ReadResult channel = ChannelData.TryRead(input, out ChannelData channelData);
        CheckResult(channel, input.Length);
        if (channel.IsComplete)
        {
            CheckInside(input, channelData.Data);
            Assert.Equal(channel.Consumed, ChannelData.HeaderLength + channelData.Data.Length);
        }

        // A stream holding the mutated bytes twice, then a valid message: framing either walks it or stops, in bounded steps.
        byte[] stream = [.. bytes, .. bytes, .. Rfc5769Vectors.SampleIPv4Response];
        int offset = 0, frames = 0;
        while (true)
        {
            ReadResult frame = StreamFramer.TryGetFrame(stream.AsSpan(offset), out PacketKind kind);
            CheckResult(frame, stream.Length - offset);
            if (!frame.IsComplete)
            {
                break;
            }

            Assert.NotEqual(PacketKind.Unknown, kind);
            Assert.True(frame.Consumed >= ChannelData.HeaderLength);
            ReadOnlySpan<byte> cut = stream.AsSpan(offset, frame.Consumed);
            if (kind == PacketKind.Stun && StunMessage.TryRead(cut, out StunMessage framed).IsComplete)
            {
                ExerciseMessage(cut, framed);
            }

            offset += frame.Consumed;
            Assert.True(++frames <= stream.Length / ChannelData.HeaderLength);
        }

        return result.Status;
    }

    private static void ExerciseMessage(ReadOnlySpan<byte> input, StunMessage message)
    {
        CheckInside(input, message.Bytes);
        _ = message.Type;
        _ = message.TransactionId;
        _ = message.ToString();
        int count = 0;
        foreach (StunAttribute attribute in message)
        {
            CheckInside(input, attribute.Value);
            _ = message.TryReadXorAddress(attribute, out _);
            Assert.True(++count <= input.Length / 4);
        }

        count = 0;
        foreach (StunAttribute attribute in message.EnumerateAll())
        {
            CheckInside(input, attribute.Value);
            Assert.True(++count <= input.Length / 4);
        }

        foreach (StunAttributeType type in Enum.GetValues<StunAttributeType>())
        {
            _ = message.TryGetXorAddress(type, out _);
            _ = message.TryGetAddress(type, out _);
            if (message.TryGetAttribute(type, out ReadOnlySpan<byte> value))
            {
                CheckInside(input, value);
            }
        }

        Span<StunAttributeType> types = stackalloc StunAttributeType[4];
        _ = message.GetUnknownComprehensionRequired(types);
        _ = message.GetUnknownAttributes(types);
        if (message.TryGetErrorCode(out int code, out ReadOnlySpan<byte> reason))
        {
            Assert.InRange(code, 300, 699);
            CheckInside(input, reason);
        }

        _ = message.TryGetAddressErrorCode(out _, out _, out _);
        _ = message.TryGetLifetime(out _);
        _ = message.TryGetChannelNumber(out _);
        _ = message.TryGetRequestedTransport(out _);
        _ = message.TryGetRequestedAddressFamily(out _);
        _ = message.TryGetAdditionalAddressFamily(out _);
        _ = message.TryGetEvenPort(out _);
        _ = message.TryGetReservationToken(out _);
        _ = message.HasDontFragment;
        _ = message.TryGetData(out _);
        _ = message.TryGetUsername(out _);
        _ = message.TryGetUserHash(out _);
        _ = message.TryGetRealm(out _);
        _ = message.TryGetNonce(out _);
        _ = message.TryGetSoftware(out _);
        _ = message.TryGetPasswordAlgorithm(out _);
        if (message.TryGetPasswordAlgorithms(out PasswordAlgorithmEnumerator algorithms))
        {
            count = 0;
            foreach (StunPasswordAlgorithm _ in algorithms)
            {
                Assert.True(++count <= input.Length / 4);
            }
        }

        _ = message.VerifyMessageIntegrity(s_key);
        _ = message.VerifyMessageIntegritySha256(s_key);
        _ = message.VerifyFingerprint();
    }

    // Incomplete must ask for more than is there (or a caller would spin); Complete must fit.
    private static void CheckResult(ReadResult result, int available)
    {
        switch (result.Status)
        {
            case ReadStatus.Complete:
                Assert.InRange(result.Consumed, 1, available);
                Assert.Equal(ReadError.None, result.Error);
                break;
            case ReadStatus.Incomplete:
                Assert.True(result.Length > available, $"{result} with {available} bytes available");
                break;
            default:
                Assert.NotEqual(ReadError.None, result.Error);
                break;
        }
    }

    // A view handed out must lie within the input: nothing is read out of bounds or from elsewhere.
    private static void CheckInside(ReadOnlySpan<byte> input, ReadOnlySpan<byte> view)
    {
        if (view.IsEmpty)
        {
            return;
        }

        Assert.True(input.Overlaps(view, out int offset), "view outside the input");
        Assert.InRange(offset, 0, input.Length - view.Length);
    }

    private static byte[] Mutate(Random random, byte[] original)
    {
        byte[] bytes = (byte[])original.Clone();
        int rounds = random.Next(1, 4);
        for (int round = 0; round < rounds && bytes.Length > 0; round++)
        {
            switch (random.Next(7))
            {
                case 0: // truncate
                    bytes = bytes[..random.Next(bytes.Length)];
                    break;
                case 1: // flip bits
                    for (int flips = random.Next(1, 9); flips > 0; flips--)
                    {
                        bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    }

                    break;
                case 2: // lie about the message (or ChannelData) length
                    if (bytes.Length >= 4)
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), Lie(random, BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(2))));
                    }

                    break;
                case 3: // lie about one attribute's length
                    int[] offsets = AttributeOffsets(bytes);
                    if (offsets.Length > 0)
                    {
                        Span<byte> length = bytes.AsSpan(offsets[random.Next(offsets.Length)] + 2, 2);
                        BinaryPrimitives.WriteUInt16BigEndian(length, Lie(random, BinaryPrimitives.ReadUInt16BigEndian(length)));
                    }

                    break;
                case 4: // overwrite a random run of bytes
                    int start = random.Next(bytes.Length);
                    random.NextBytes(bytes.AsSpan(start, Math.Min(bytes.Length - start, random.Next(1, 9))));
                    break;
                case 5: // retype one attribute (e.g. into an integrity attribute, or an unknown one)
                    int[] candidates = AttributeOffsets(bytes);
                    if (candidates.Length > 0)
                    {
                        ushort[] types = [0x0008, 0x001C, 0x8028, 0x0020, 0x0012, 0x0009, 0x8002, 0x001D, 0x7FFF, (ushort)random.Next(0x10000)];
                        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(candidates[random.Next(candidates.Length)]), types[random.Next(types.Length)]);
                    }

                    break;
                default: // append a random tail and, sometimes, make the header claim it
                    byte[] tail = new byte[random.Next(1, 24)];
                    random.NextBytes(tail);
                    bytes = [.. bytes, .. tail];
                    if (random.Next(2) == 0 && bytes.Length >= 4)
                    {
                        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(2), (ushort)Math.Max(0, bytes.Length - StunHeader.Length));
                    }

                    break;
            }
        }

        return bytes;
    }

    private static ushort Lie(Random random, ushort truth) => random.Next(5) switch
    {
        0 => 0,
        1 => ushort.MaxValue,
        2 => (ushort)(truth + random.Next(1, 9)),
        3 => (ushort)(truth - random.Next(1, 9)),
        _ => (ushort)random.Next(0x10000),
    };

    // Offsets of the attribute headers as the original framing lays them out (walked leniently).
    private static int[] AttributeOffsets(byte[] bytes)
    {
        var offsets = new List<int>();
        for (int offset = StunHeader.Length; offset + 4 <= bytes.Length;)
        {
            offsets.Add(offset);
            offset += 4 + StunHeader.Pad4(BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(offset + 2)));
        }

        return [.. offsets];
    }

    private static byte[] Pad(byte[] bytes) => [.. bytes, .. new byte[StunHeader.Pad4(bytes.Length) - bytes.Length]];

    private static int ReadEnvironment(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int value)
            ? value
            : fallback;
}
