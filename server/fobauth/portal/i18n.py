# ruff: noqa: E501  (Japanese characters count twice towards the line length; sentences stay whole)
"""The portal's words in Japanese and English.  Japanese follows the bank's customer guide.

The language is chosen with ``?lang=ja|en`` (kept in a cookie) and is
Japanese by default, as the bank's customers expect.
"""

LANGUAGES = ("ja", "en")
DEFAULT = "ja"
COOKIE = "fob_lang"

TEXTS = {
    "ja": {
        "bank": "fobkit 銀行 法人向けインターネットバンキング",
        "language": "Language",
        "login.title": "ログイン",
        "login.user_id": "ログインID",
        "login.password": "ログインパスワード",
        "login.submit": "ログイン",
        "login.failed": "ログインIDまたはログインパスワードが正しくありません。",
        "logout": "ログアウト",
        "code.title": "ワンタイムパスワード認証",
        "code.lead": "ハードウェアトークンに表示されているワンタイムパスワードを入力し、「認証確認」ボタンを押してください。",
        "otp": "ワンタイムパスワード",
        "confirm": "認証確認",
        "register.title": "ワンタイムパスワード利用開始登録（ハードウェアトークン）",
        "register.lead": "セキュリティ向上のため、ワンタイムパスワードでの認証が追加されました。"
        "事前準備としてハードウェアトークンの利用開始登録が必要となります。",
        "register.section": "ハードウェアトークン利用開始登録",
        "register.how": "トークンに記載されているシリアル番号とワンタイムパスワードを入力の上、"
        "「認証確認」ボタンを押してください。",
        "serial": "シリアル番号",
        "serial.hint": "半角数字8桁以上12桁以内",
        "skip.section": "ハードウェアトークン利用開始登録の省略",
        "skip.how": "すぐに利用開始登録を行わない場合には、「トークン利用開始登録の省略」ボタンを押してください。"
        "なお、次回ログイン時に改めて利用開始登録が可能です。",
        "skip": "トークン利用開始登録の省略",
        "top.title": "トップページ",
        "top.welcome": "%(user)s 様、ようこそ。",
        "top.registered": "ワンタイムパスワード利用開始登録が完了しました（シリアル番号 %(serial)s）。",
        "top.token": "ご利用中のハードウェアトークン：シリアル番号 %(serial)s",
        "top.no_token": "ハードウェアトークンは登録されていません。次回ログイン時に利用開始登録が可能です。",
        "top.cooldown": "トークンが失効されました。約%(minutes)d分後にログインし、利用開始登録を行ってください。",
        "suspended.title": "ワンタイムパスワード利用停止中",
        "suspended.text": "誤ったワンタイムパスワードを連続して入力したため、ワンタイムパスワードの利用が停止されています。"
        "マスターユーザまたは管理者ユーザに利用停止の解除をご依頼ください。",
        "back_to_login": "ログイン画面へ",
        "back_to_top": "トップページへ",
        "manage": "管理",
        "manage.title": "業務選択",
        "users_admin": "利用者管理",
        "manage_users.title": "作業内容選択",
        "unlock.menu": "ワンタイムパスワードの利用停止解除",
        "unlock.title": "ワンタイムパスワード利用停止解除一覧",
        "unlock.how": "対象の利用者を選択のうえ、「確認用パスワード」を入力し、「停止解除」ボタンを押してください。",
        "unlock.none": "利用停止中の利用者はいません。",
        "unlock.submit": "停止解除",
        "unlock.done.title": "ワンタイムパスワードの利用停止解除結果",
        "unlock.done.text": "%(user)s のワンタイムパスワードの利用停止を解除しました。",
        "revoke.menu": "トークンの失効",
        "revoke.title": "トークン失効",
        "revoke.how": "対象の利用者を選択のうえ、「確認用パスワード」とワンタイムパスワードを入力し、「失効」ボタンを押してください。",
        "revoke.how_no_token": "対象の利用者を選択のうえ、「確認用パスワード」を入力し、「失効」ボタンを押してください。",
        "revoke.none": "トークンを登録している利用者はいません。",
        "revoke.submit": "失効",
        "revoke.done.title": "トークン失効結果",
        "revoke.done.text": "%(user)s のトークン（シリアル番号 %(serial)s）を失効しました。",
        "revoke.done.wait": "「トークンの失効」を行うと約%(minutes)d分間再設定ができなくなります。"
        "約%(minutes)d分経過後にログインしワンタイムパスワードの初期設定を実施してください。",
        "users": "利用者一覧",
        "user": "利用者",
        "role": "権限",
        "role.master": "マスターユーザ",
        "role.admin": "管理者ユーザ",
        "role.user": "一般ユーザ",
        "select": "選択",
        "confirmation_password": "確認用パスワード",
        "error.title": "エラー",
        "error.csrf": "画面の有効期限が切れました。もう一度操作してください。",
        "error.forbidden_page": "この画面を利用する権限がありません。",
        "error.not_found": "ページが見つかりません。",
        "error.internal": "ただいま処理できません。しばらくしてからもう一度お試しください。",
        "error.too_large": "入力が長すぎます。",
        "error.session": "一定時間操作がなかったため、もう一度ログインしてください。",
        "field.required": "入力してください。",
        "field.too_long": "入力が長すぎます。",
        "field.choose": "対象の利用者を選択してください。",
        "error.bad_serial": "シリアル番号は半角数字8桁以上12桁以内で入力してください。",
        "error.bad_code": "ワンタイムパスワードはトークンに表示されている数字6桁で入力してください。",
        "error.invalid_code": "ワンタイムパスワードが正しくありません。",
        "error.replayed": "このワンタイムパスワードは使用済みです。次に表示されるワンタイムパスワードを入力してください。",
        "error.expired": "ハードウェアトークンの有効期限が切れています。お取引店にご連絡ください。",
        "error.unknown_token": "このシリアル番号のトークンは登録できません。シリアル番号をご確認ください。",
        "error.forbidden_token": "このトークンは登録できません。",
        "error.revoked_cooldown": "トークンの失効後、約%(minutes)d分間は利用開始登録ができません。",
        "error.bad_confirmation": "確認用パスワードが正しくありません。",
        "error.not_suspended": "この利用者は利用停止されていません。",
        "error.not_registered": "この利用者はトークンを登録していません。",
        "error.rate_limited": "試行回数が多すぎます。しばらくしてからもう一度お試しください。",
    },
    "en": {
        "bank": "fobkit Bank business internet banking",
        "language": "言語",
        "login.title": "Log in",
        "login.user_id": "User ID",
        "login.password": "Login password",
        "login.submit": "Log in",
        "login.failed": "The user ID or login password is incorrect.",
        "logout": "Log out",
        "code.title": "One-time password",
        "code.lead": "Enter the one-time password your hardware token shows and press \u201cConfirm\u201d.",
        "otp": "One-time password",
        "confirm": "Confirm",
        "register.title": "Start using a one-time password (hardware token)",
        "register.lead": "For your security, sign-in now also asks for a one-time password. "
        "Please register your hardware token first.",
        "register.section": "Register the hardware token",
        "register.how": "Enter the serial number printed on the token and the one-time password it shows, "
        "then press \u201cConfirm\u201d.",
        "serial": "Serial number",
        "serial.hint": "8 to 12 digits",
        "skip.section": "Skip token registration",
        "skip.how": "To register later, press \u201cSkip token registration\u201d. "
        "Registration is offered again at your next login.",
        "skip": "Skip token registration",
        "top.title": "Top page",
        "top.welcome": "Welcome, %(user)s.",
        "top.registered": "Your one-time password is set up (serial number %(serial)s).",
        "top.token": "Your hardware token: serial number %(serial)s",
        "top.no_token": "No hardware token is registered. Registration is offered again at your next login.",
        "top.cooldown": "Your token was revoked. Log in again in about %(minutes)d minutes to register a token.",
        "suspended.title": "One-time password suspended",
        "suspended.text": "One-time password use is suspended after too many wrong codes. "
        "Please ask your master user or an administrator to lift the suspension.",
        "back_to_login": "Back to login",
        "back_to_top": "Back to the top page",
        "manage": "Management",
        "manage.title": "Choose a service",
        "users_admin": "User management",
        "manage_users.title": "Choose a task",
        "unlock.menu": "Lift a one-time password suspension",
        "unlock.title": "Suspended one-time password users",
        "unlock.how": "Select the user, enter your confirmation password and press \u201cLift suspension\u201d.",
        "unlock.none": "No user is suspended.",
        "unlock.submit": "Lift suspension",
        "unlock.done.title": "Suspension lifted",
        "unlock.done.text": "The one-time password suspension of %(user)s is lifted.",
        "revoke.menu": "Revoke a token",
        "revoke.title": "Revoke a token",
        "revoke.how": "Select the user, enter your confirmation password and your one-time password, "
        "then press \u201cRevoke\u201d.",
        "revoke.how_no_token": "Select the user, enter your confirmation password and press \u201cRevoke\u201d.",
        "revoke.none": "No user has a registered token.",
        "revoke.submit": "Revoke",
        "revoke.done.title": "Token revoked",
        "revoke.done.text": "The token of %(user)s (serial number %(serial)s) is revoked.",
        "revoke.done.wait": "A token cannot be registered again for about %(minutes)d minutes after revocation. "
        "After about %(minutes)d minutes, the user logs in and registers a token again.",
        "users": "Users",
        "user": "User",
        "role": "Role",
        "role.master": "Master user",
        "role.admin": "Administrator",
        "role.user": "User",
        "select": "Select",
        "confirmation_password": "Confirmation password",
        "error.title": "Error",
        "error.csrf": "This page has expired. Please try again.",
        "error.forbidden_page": "You are not allowed to use this page.",
        "error.not_found": "Page not found.",
        "error.internal": "We cannot process this now. Please try again later.",
        "error.too_large": "The input is too long.",
        "error.session": "Your session has ended. Please log in again.",
        "field.required": "Please fill this in.",
        "field.too_long": "Too long.",
        "field.choose": "Please select a user.",
        "error.bad_serial": "The serial number is 8 to 12 digits.",
        "error.bad_code": "The one-time password is the 6 digits the token shows.",
        "error.invalid_code": "The one-time password is incorrect.",
        "error.replayed": "This one-time password was already used. Please enter the next one the token shows.",
        "error.expired": "Your hardware token has expired. Please contact your branch.",
        "error.unknown_token": "No token with this serial number can be registered. Please check the serial number.",
        "error.forbidden_token": "This token cannot be registered.",
        "error.revoked_cooldown": "A token cannot be registered for about %(minutes)d minutes after revocation.",
        "error.bad_confirmation": "The confirmation password is incorrect.",
        "error.not_suspended": "This user is not suspended.",
        "error.not_registered": "This user has no registered token.",
        "error.rate_limited": "Too many attempts. Please try again later.",
    },
}


def choose(request):
    """The language of this request: a valid ``?lang=``, else the cookie, else Japanese."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT


def translator(language):
    """``t(key, **values)``: the text of ``key`` in ``language``, with ``%(name)s`` values filled in."""
    texts = TEXTS[language]

    def t(key, **values):
        text = texts[key]
        return text % values if values else text

    return t
