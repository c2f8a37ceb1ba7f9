using System.Runtime.InteropServices;

namespace Parley.Turn.Hosting.Linux;

/// <summary>
/// The few Linux system calls the UDP event loop needs (epoll, eventfd, recvmmsg/sendmmsg), 64-bit x64 and arm64
/// only: the struct layouts below are LP64's. Everything else uses <see cref="System.Net.Sockets.Socket"/>.
/// </summary>
internal static unsafe partial class LinuxInterop
{
    public const int EpollCloexec = 0x80000;
    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const uint EpollIn = 0x001;
    public const int EfdCloexec = 0x80000;
    public const int EfdNonblock = 0x800;
    public const int MsgDontWait = 0x40;
    public const int MsgTrunc = 0x20;

    public const int EIntr = 4;
    public const int EIo = 5;
    public const int EAgain = 11;
    public const int EInval = 22;
    public const int EMsgSize = 90;
    public const int ENoBufs = 105;

    public const ushort AfInet = 2;
    public const ushort AfInet6 = 10;

    /// <summary>sizeof(struct sockaddr_in6), which also holds a sockaddr_in.</summary>
    public const int SockaddrBytes = 28;

    /// <summary>
    /// True where the layouts below hold: Linux on x64 (struct epoll_event packed, 12 bytes) or arm64 (16 bytes).
    /// </summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && IntPtr.Size == 8
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    // struct epoll_event { uint32_t events; epoll_data_t data; }: packed on x86-64 only.
    public static int EpollEventBytes => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    private static int EpollDataOffset => RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    public static ulong ReadEpollData(byte* events, int index) => *(ulong*)(events + (index * EpollEventBytes) + EpollDataOffset);

    public static int EpollCtl(int epoll, int op, int fd, uint events, ulong data)
    {
        byte* ev = stackalloc byte[16];
        new Span<byte>(ev, 16).Clear();
        *(uint*)ev = events;
        *(ulong*)(ev + EpollDataOffset) = data;
        return epoll_ctl(epoll, op, fd, ev);
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MsgHdr
    {
        public byte* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public void* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct MMsgHdr
    {
        public MsgHdr Header;
        public uint Length;
    }

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epfd, int op, int fd, byte* ev);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_wait(int epfd, byte* events, int maxEvents, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int recvmmsg(int fd, MMsgHdr* messages, uint count, int flags, void* timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int sendmmsg(int fd, MMsgHdr* messages, uint count, int flags);
}
