// The app's words in every language it speaks. Elements name their text with data-i18n (textContent),
// data-i18n-placeholder, data-i18n-title or data-i18n-aria-label, plus data-i18n-args (JSON) for
// {placeholders}; translate() then switches the whole page at once.

/** @typedef {'en' | 'zh-CN'} Language */

const en = {
  'app.tagline': 'Private video calls, straight between browsers.',
  'lang.label': 'Language',

  'lobby.heading': 'Join a call',
  'lobby.name': 'Your name',
  'lobby.namePlaceholder': 'e.g. Ana',
  'lobby.room': 'Room',
  'lobby.roomPlaceholder': 'e.g. family',
  'lobby.password': 'Password (optional)',
  'lobby.passwordHint': 'The first person in the room sets it; everyone after needs it.',
  'lobby.camera': 'Camera',
  'lobby.microphone': 'Microphone',
  'lobby.join': 'Join',
  'lobby.joining': 'Joining…',
  'lobby.previewOff': 'No camera preview',
  'lobby.noDevice': 'None found',
  'lobby.defaultDevice': 'Default (not allowed yet)',
  'lobby.cameraN': 'Camera {n}',
  'lobby.microphoneN': 'Microphone {n}',

  'media.NotAllowedError':
    'Camera/microphone access was blocked. Allow it in the address bar\'s site settings and try again, or join with audio only / without sending media.',
  'media.NotFoundError':
    'No camera or microphone was found. Connect one and try again, or join with audio only / without sending media.',
  'media.NotReadableError':
    'Your camera or microphone is in use by another app (or could not be started). Close the other app and try again, or join with audio only / without sending media.',
  'media.OverconstrainedError':
    'The chosen camera or microphone is not available any more. Pick another one above, or join with audio only / without sending media.',
  'media.other':
    'The camera and microphone could not be used here (this page may need https). You can still join without sending media.',
  'media.joinAudioOnly': 'Join with audio only',
  'media.joinReceiveOnly': 'Join without sending media',
  'media.retry': 'Try again',
  'media.audioOnlyFailed': 'The microphone could not be used either, so you joined without sending audio or video.',
  'media.switchFailed': 'That device could not be used.',

  'error.room-full': 'This room is full. Try again later or choose another room.',
  'error.wrong-password': 'Wrong password for this room.',
  'error.invalid-name': 'Please enter a name (1–64 characters, no control characters).',
  'error.invalid-room': 'Room names are 1–64 letters, digits, "-", "_" or "." and cannot start with ".".',
  'error.invalid-password': 'The password is too long (at most 128 characters).',
  'error.server-full': 'The server is busy. Please try again in a moment.',
  'error.unsupported-protocol': 'This page is out of date. Reload it to get the current version.',
  'error.rate-limited': 'Too many messages; slow down a little.',
  'error.already-in-room': 'You are already in a room.',
  'error.not-in-room': 'You are not in a room.',
  'error.session-taken-over': 'This call was opened in another tab or window.',
  'error.room-closed': 'The host closed this room.',
  'error.session-closed': 'The host disconnected you from this call. You can join again.',
  'error.server-draining': 'The server is restarting. Please try again in a moment.',
  'error.disconnected': 'Could not reach the server. Check your connection and try again.',
  'error.not-connected': 'Could not reach the server. Check your connection and try again.',
  'error.timeout': 'The server did not answer. Please try again.',
  'error.internal': 'The server had a problem. Please try again.',
  'error.unknown': 'Something went wrong ({id}).',

  'call.you': 'You',
  'call.mute': 'Mute',
  'call.muted': 'Unmute',
  'call.cameraOff': 'Stop video',
  'call.cameraOffPressed': 'Start video',
  'call.hangup': 'Leave',
  'call.copyLink': 'Invite',
  'call.copyLinkTitle': 'Copy the invite link',
  'call.copied': 'Invite link copied.',
  'call.copyFailed': 'Copy this link: {link}',
  'call.camera': 'Camera',
  'call.microphone': 'Microphone',
  'call.reconnecting': 'Connection to the server lost. Reconnecting…',
  'call.unmuteAudio': 'Sound is blocked by the browser: click to turn it on',
  'call.alone': 'Nobody else is here yet. Invite others with the link.',
  'call.room': 'Room: {room}',
  'call.ended': 'You left the call.',
  'call.endedReason': 'The call ended: {reason}',

  'tile.connecting': 'Connecting…',
  'tile.reconnecting': 'Reconnecting…',
  'tile.failed': 'Could not connect',
  'tile.muted': 'Microphone off',

  'turnHint.text': 'The call could not connect directly. A TURN server is probably needed to relay it (your network, or the other person\'s, blocks direct connections).',
  'turnHint.operators': 'If you run this server: set up TURN as described in docs/turn.md (Parley\'s embedded TURN server, or coturn). "Test connectivity" checks it.',

  'connectivity.open': 'Test connectivity',
  'connectivity.openTitle': 'Test the STUN and TURN servers from this browser',
  'connectivity.heading': 'Test connectivity',
  'connectivity.close': 'Close',
  'connectivity.intro': 'Checks each STUN and TURN server this app uses: for TURN, a small call relayed through that server inside this page.',
  'connectivity.run': 'Run again',
  'connectivity.server': 'Server',
  'connectivity.protocol': 'Protocol',
  'connectivity.result': 'Result',
  'connectivity.candidates': 'Candidates',
  'connectivity.time': 'Time',
  'connectivity.fetching': 'Getting the server list…',
  'connectivity.running': 'Testing… ({done} of {total})',
  'connectivity.done': 'Done: {ok} of {total} passed.',
  'connectivity.noServers': 'This server hands out no STUN or TURN servers: calls can only connect directly. Operators: see docs/turn.md.',
  'connectivity.noTurn': 'No TURN server is configured: people behind strict NATs or firewalls will not be able to connect. Operators: see docs/turn.md.',
  'connectivity.fetchFailed': 'Could not reach the server to get its STUN/TURN list ({reason}).',
  'connectivity.ok': 'OK',
  'connectivity.failed': 'Failed',
  'connectivity.testing': 'Testing…',
  'connectivity.none': 'none',
  'connectivity.ms': '{ms} ms',
};

/** @type {Record<keyof typeof en, string>} */
const zhCN = {
  'app.tagline': '私密视频通话，浏览器之间直接连接。',
  'lang.label': '语言',

  'lobby.heading': '加入通话',
  'lobby.name': '你的名字',
  'lobby.namePlaceholder': '例如：小明',
  'lobby.room': '房间',
  'lobby.roomPlaceholder': '例如：family',
  'lobby.password': '密码（可选）',
  'lobby.passwordHint': '第一个进入房间的人设置密码，之后的人都需要它。',
  'lobby.camera': '摄像头',
  'lobby.microphone': '麦克风',
  'lobby.join': '加入',
  'lobby.joining': '正在加入…',
  'lobby.previewOff': '没有摄像头预览',
  'lobby.noDevice': '未找到设备',
  'lobby.defaultDevice': '默认（尚未允许）',
  'lobby.cameraN': '摄像头 {n}',
  'lobby.microphoneN': '麦克风 {n}',

  'media.NotAllowedError':
    '摄像头/麦克风的访问被阻止了。请在地址栏的网站设置中允许访问后重试，或者仅用音频加入 / 不发送媒体加入。',
  'media.NotFoundError':
    '没有找到摄像头或麦克风。请连接设备后重试，或者仅用音频加入 / 不发送媒体加入。',
  'media.NotReadableError':
    '摄像头或麦克风正被其他应用占用（或无法启动）。请关闭该应用后重试，或者仅用音频加入 / 不发送媒体加入。',
  'media.OverconstrainedError':
    '所选的摄像头或麦克风已不可用。请在上方选择其他设备，或者仅用音频加入 / 不发送媒体加入。',
  'media.other':
    '此处无法使用摄像头和麦克风（该页面可能需要 https）。你仍然可以不发送媒体加入。',
  'media.joinAudioOnly': '仅用音频加入',
  'media.joinReceiveOnly': '不发送媒体加入',
  'media.retry': '重试',
  'media.audioOnlyFailed': '麦克风也无法使用，因此你已在不发送音频和视频的情况下加入。',
  'media.switchFailed': '无法使用该设备。',

  'error.room-full': '房间已满。请稍后再试或选择其他房间。',
  'error.wrong-password': '房间密码错误。',
  'error.invalid-name': '请输入名字（1–64 个字符，不含控制字符）。',
  'error.invalid-room': '房间名为 1–64 个字母、数字、“-”、“_”或“.”，且不能以“.”开头。',
  'error.invalid-password': '密码太长（最多 128 个字符）。',
  'error.server-full': '服务器繁忙，请稍后再试。',
  'error.unsupported-protocol': '此页面已过期，请刷新以获取最新版本。',
  'error.rate-limited': '消息太多，请稍慢一些。',
  'error.already-in-room': '你已经在一个房间里了。',
  'error.not-in-room': '你不在任何房间里。',
  'error.session-taken-over': '此通话已在另一个标签页或窗口中打开。',
  'error.room-closed': '主持人关闭了此房间。',
  'error.session-closed': '主持人已将你移出此通话。你可以重新加入。',
  'error.server-draining': '服务器正在重启，请稍后再试。',
  'error.disconnected': '无法连接到服务器。请检查网络后重试。',
  'error.not-connected': '无法连接到服务器。请检查网络后重试。',
  'error.timeout': '服务器没有响应，请重试。',
  'error.internal': '服务器出现问题，请重试。',
  'error.unknown': '出了点问题（{id}）。',

  'call.you': '你',
  'call.mute': '静音',
  'call.muted': '取消静音',
  'call.cameraOff': '关闭视频',
  'call.cameraOffPressed': '开启视频',
  'call.hangup': '离开',
  'call.copyLink': '邀请',
  'call.copyLinkTitle': '复制邀请链接',
  'call.copied': '邀请链接已复制。',
  'call.copyFailed': '请复制此链接：{link}',
  'call.camera': '摄像头',
  'call.microphone': '麦克风',
  'call.reconnecting': '与服务器的连接已断开，正在重新连接…',
  'call.unmuteAudio': '浏览器阻止了声音：点击开启',
  'call.alone': '还没有其他人。用邀请链接请别人加入。',
  'call.room': '房间：{room}',
  'call.ended': '你已离开通话。',
  'call.endedReason': '通话已结束：{reason}',

  'tile.connecting': '正在连接…',
  'tile.reconnecting': '正在重新连接…',
  'tile.failed': '无法连接',
  'tile.muted': '麦克风已关闭',

  'turnHint.text': '通话无法直接连接。很可能需要 TURN 服务器来中继（你或对方的网络阻止了直接连接）。',
  'turnHint.operators': '如果你是此服务器的管理员：请按 docs/turn.md 配置 TURN（Parley 内置的 TURN 服务器或 coturn）。可用“测试连接”检查。',

  'connectivity.open': '测试连接',
  'connectivity.openTitle': '从此浏览器测试 STUN 和 TURN 服务器',
  'connectivity.heading': '测试连接',
  'connectivity.close': '关闭',
  'connectivity.intro': '逐个检查本应用使用的 STUN 和 TURN 服务器：对 TURN，在本页面内通过该服务器中继一次小型通话。',
  'connectivity.run': '重新测试',
  'connectivity.server': '服务器',
  'connectivity.protocol': '协议',
  'connectivity.result': '结果',
  'connectivity.candidates': '候选地址',
  'connectivity.time': '用时',
  'connectivity.fetching': '正在获取服务器列表…',
  'connectivity.running': '正在测试…（{done}/{total}）',
  'connectivity.done': '完成：{total} 项中 {ok} 项通过。',
  'connectivity.noServers': '此服务器未提供任何 STUN 或 TURN 服务器：通话只能直接连接。管理员请参阅 docs/turn.md。',
  'connectivity.noTurn': '未配置 TURN 服务器：位于严格 NAT 或防火墙之后的用户将无法连接。管理员请参阅 docs/turn.md。',
  'connectivity.fetchFailed': '无法连接服务器获取 STUN/TURN 列表（{reason}）。',
  'connectivity.ok': '正常',
  'connectivity.failed': '失败',
  'connectivity.testing': '测试中…',
  'connectivity.none': '无',
  'connectivity.ms': '{ms} 毫秒',
};

/** @typedef {keyof typeof en} MessageKey */

/** @type {Record<Language, Record<MessageKey, string>>} */
const catalogs = { en, 'zh-CN': zhCN };

/** @type {Language[]} */
export const LANGUAGES = ['en', 'zh-CN'];

const STORAGE_KEY = 'parley.lang';

/** @type {Language} */
let current = 'en';

/** The remembered choice, else the first of the browser's languages we speak. @returns {Language} */
export function initialLanguage() {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'en' || saved === 'zh-CN') return saved;
  for (const tag of navigator.languages ?? [navigator.language]) {
    const lower = tag.toLowerCase();
    if (lower.startsWith('zh')) return 'zh-CN';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

/** @returns {Language} */
export function language() {
  return current;
}

/**
 * Switches the language, remembers it, and retranslates the page.
 * @param {Language} lang
 */
export function setLanguage(lang) {
  current = lang;
  localStorage.setItem(STORAGE_KEY, lang);
  document.documentElement.lang = lang;
  translate(document.body);
}

/**
 * @param {string} key
 * @returns {key is MessageKey}
 */
export function hasMessage(key) {
  return Object.hasOwn(en, key);
}

/**
 * The text for `key` in the current language, with {name} placeholders filled from `args`.
 * @param {MessageKey} key
 * @param {Record<string, string | number>} [args]
 */
export function t(key, args = {}) {
  const template = catalogs[current][key] ?? en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in args ? String(args[name]) : whole));
}

/**
 * Gives an element translated text that follows language switches.
 * @param {HTMLElement} element
 * @param {MessageKey} key
 * @param {Record<string, string | number>} [args]
 */
export function setText(element, key, args) {
  element.dataset.i18n = key;
  if (args) element.dataset.i18nArgs = JSON.stringify(args);
  else delete element.dataset.i18nArgs;
  element.textContent = t(key, args);
}

/**
 * Retranslates every marked element under `root`.
 * @param {ParentNode} root
 */
export function translate(root) {
  for (const element of root.querySelectorAll('[data-i18n], [data-i18n-placeholder], [data-i18n-title], [data-i18n-aria-label]')) {
    if (!(element instanceof HTMLElement)) continue;
    const args = element.dataset.i18nArgs ? JSON.parse(element.dataset.i18nArgs) : undefined;
    const { i18n, i18nPlaceholder, i18nTitle, i18nAriaLabel } = element.dataset;
    if (i18n && hasMessage(i18n)) element.textContent = t(i18n, args);
    if (i18nPlaceholder && hasMessage(i18nPlaceholder)) element.setAttribute('placeholder', t(i18nPlaceholder, args));
    if (i18nTitle && hasMessage(i18nTitle)) element.title = t(i18nTitle, args);
    if (i18nAriaLabel && hasMessage(i18nAriaLabel)) element.setAttribute('aria-label', t(i18nAriaLabel, args));
  }
}
