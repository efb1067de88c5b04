"""Rich menus on the fake LINE Messaging API (part of :class:`bot.fakes.line.FakeLine`).

Endpoints, as LINE documents them
(https://developers.line.biz/en/reference/messaging-api/#rich-menu)::

    POST   /v2/bot/richmenu                         create; 200 {"richMenuId"}
    GET    /v2/bot/richmenu/list                    200 {"richmenus": [...]}
    GET    /v2/bot/richmenu/{id}                    200 the menu; 404 unknown
    DELETE /v2/bot/richmenu/{id}                    200 {}; 404 unknown
    POST   /v2/bot/richmenu/{id}/content            (api-data) upload the PNG/JPEG once
    GET    /v2/bot/richmenu/{id}/content            (api-data) the image; 404 none
    POST   /v2/bot/user/all/richmenu/{id}           set the default; 400 without image
    GET    /v2/bot/user/all/richmenu                the default's id; 404 none
    DELETE /v2/bot/user/all/richmenu                cancel the default
    POST   /v2/bot/user/{user}/richmenu/{id}        link to a user; 400 without image
    GET    /v2/bot/user/{user}/richmenu             the user's menu; 404 none
    DELETE /v2/bot/user/{user}/richmenu             unlink

Validation follows LINE's rules: size 800-2500 wide and at least 250 high (at
most 1686) with width/height ≥ 1.45; 1-20 areas, each inside the menu; name at most
300 characters, chatBarText 1-14; postback data at most 300, label at most 20;
the image JPEG or PNG, at most 1 MB, exactly the menu's size, uploaded once.
Every call is recorded in ``rich_menu_calls`` as (method, path, status).
"""

from __future__ import annotations

import io
import itertools
import uuid
from typing import Any

from aiohttp import web

MAX_IMAGE_BYTES = 1024 * 1024
NO_IMAGE = "must upload richmenu image before applying it to user"
_ACTIONS = {"postback", "message", "uri", "datetimepicker", "richmenuswitch", "camera",
            "cameraRoll", "location"}


class RichMenuFake:
    """Mixed into the fake LINE server: state and routes for rich menus."""

    lock: Any
    token: str

    def _init_rich_menus(self) -> None:
        self.rich_menus: dict[str, dict[str, Any]] = {}
        self.rich_menu_images: dict[str, bytes] = {}
        self.default_rich_menu: str | None = None
        self.user_rich_menus: dict[str, str] = {}
        self.rich_menu_calls: list[tuple[str, str, int]] = []
        self._menu_ids = itertools.count(1)

    def rich_menu_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_post("/v2/bot/richmenu", self._rm_create)
        r.add_get("/v2/bot/richmenu/list", self._rm_list)
        r.add_get("/v2/bot/richmenu/{id}", self._rm_get)
        r.add_delete("/v2/bot/richmenu/{id}", self._rm_delete)
        r.add_post("/v2/bot/richmenu/{id}/content", self._rm_upload)
        r.add_get("/v2/bot/richmenu/{id}/content", self._rm_download)
        r.add_post("/v2/bot/user/all/richmenu/{id}", self._rm_set_default)
        r.add_get("/v2/bot/user/all/richmenu", self._rm_get_default)
        r.add_delete("/v2/bot/user/all/richmenu", self._rm_cancel_default)
        r.add_post("/v2/bot/user/{user}/richmenu/{id}", self._rm_link)
        r.add_get("/v2/bot/user/{user}/richmenu", self._rm_user)
        r.add_delete("/v2/bot/user/{user}/richmenu", self._rm_unlink)

    # ------------------------------------------------------------ helpers

    def _rm_answer(self, request: web.Request, status: int, body: dict[str, Any]
                   ) -> web.Response:
        with self.lock:
            self.rich_menu_calls.append((request.method, request.path, status))
        return web.json_response(body, status=status,
                                 headers={"x-line-request-id": str(uuid.uuid4())})

    def _rm_auth(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization", "") != f"Bearer {self.token}":
            return self._rm_answer(request, 401, {"message": "Authentication failed."})
        return None

    def _rm_known(self, request: web.Request) -> tuple[str, web.Response | None]:
        menu_id = request.match_info["id"]
        with self.lock:
            known = menu_id in self.rich_menus
        return menu_id, None if known else self._rm_answer(request, 404, {"message": "Not found"})

    @staticmethod
    def validate_rich_menu(body: Any) -> list[dict[str, str]]:
        """LINE's checks on a rich menu object: the list of problems (empty: valid)."""
        errors: list[dict[str, str]] = []

        def bad(prop: str, message: str) -> None:
            errors.append({"property": prop, "message": message})

        if not isinstance(body, dict):
            return [{"property": "", "message": "must be an object"}]
        size: dict[str, Any] = body["size"] if isinstance(body.get("size"), dict) else {}
        width, height = size.get("width"), size.get("height")
        if not isinstance(width, int) or not 800 <= width <= 2500:
            bad("size.width", "must be between 800 and 2500")
        if not isinstance(height, int) or not 250 <= height <= 1686:
            bad("size.height", "must be between 250 and 1686")
        elif isinstance(width, int) and width / height < 1.45:
            bad("size", "width/height must be 1.45 or more")
        if not isinstance(body.get("selected"), bool):
            bad("selected", "must be a boolean")
        name = body.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 300:
            bad("name", "Length must be between 1 and 300")
        bar = body.get("chatBarText")
        if not isinstance(bar, str) or not 1 <= len(bar) <= 14:
            bad("chatBarText", "Length must be between 1 and 14")
        areas = body.get("areas")
        if not isinstance(areas, list) or not 1 <= len(areas) <= 20:
            bad("areas", "Size must be between 1 and 20")
            return errors
        for i, area in enumerate(areas):
            b = area.get("bounds") if isinstance(area, dict) else None
            vals: list[Any] = ([b.get(k) for k in ("x", "y", "width", "height")]
                               if isinstance(b, dict) else [])
            if len(vals) != 4 or not all(isinstance(v, int) and v >= 0 for v in vals):
                bad(f"areas[{i}].bounds", "must have non-negative x, y, width and height")
            elif isinstance(width, int) and isinstance(height, int) and (
                    vals[0] + vals[2] > width or vals[1] + vals[3] > height
                    or not vals[2] or not vals[3]):
                bad(f"areas[{i}].bounds", "must be within the rich menu")
            action = area.get("action") if isinstance(area, dict) else None
            if not isinstance(action, dict) or action.get("type") not in _ACTIONS:
                bad(f"areas[{i}].action", "must be a valid action")
                continue
            label = action.get("label")
            if label is not None and (not isinstance(label, str) or len(label) > 20):
                bad(f"areas[{i}].action.label", "Length must be between 0 and 20")
            if action["type"] == "postback":
                data = action.get("data")
                if not isinstance(data, str) or not 1 <= len(data) <= 300:
                    bad(f"areas[{i}].action.data", "Length must be between 1 and 300")
                shown = action.get("displayText")
                if shown is not None and (not isinstance(shown, str) or len(shown) > 300):
                    bad(f"areas[{i}].action.displayText", "Length must be between 0 and 300")
        return errors

    # ------------------------------------------------------------ routes

    async def _rm_create(self, request: web.Request) -> web.Response:
        if (denied := self._rm_auth(request)) is not None:
            return denied
        try:
            body = await request.json()
        except ValueError:
            return self._rm_answer(request, 400, {"message": "The request body has 1 error(s)"})
        errors = self.validate_rich_menu(body)
        if errors:
            return self._rm_answer(request, 400, {
                "message": f"The request body has {len(errors)} error(s)", "details": errors})
        with self.lock:
            menu_id = f"richmenu-{next(self._menu_ids):032x}"
            self.rich_menus[menu_id] = {"richMenuId": menu_id, **body}
        return self._rm_answer(request, 200, {"richMenuId": menu_id})

    async def _rm_list(self, request: web.Request) -> web.Response:
        if (denied := self._rm_auth(request)) is not None:
            return denied
        with self.lock:
            menus = list(self.rich_menus.values())
        return self._rm_answer(request, 200, {"richmenus": menus})

    async def _rm_get(self, request: web.Request) -> web.Response:
        if (denied := self._rm_auth(request)) is not None:
            return denied
        menu_id, missing = self._rm_known(request)
        return missing or self._rm_answer(request, 200, self.rich_menus[menu_id])

    async def _rm_delete(self, request: web.Request) -> web.Response:
        if (denied := self._rm_auth(request)) is not None:
            return denied
        menu_id, missing = self._rm_known(request)
        if missing:
            return missing
        with self.lock:
            del self.rich_menus[menu_id]
            self.rich_menu_images.pop(menu_id, None)
            if self.default_rich_menu == menu_id:
                self.default_rich_menu = None
            for user in [u for u, m in self.user_rich_menus.items() if m == menu_id]:
                del self.user_rich_menus[user]
        return self._rm_answer(request, 200, {})

    async def _rm_upload(self, request: web.Request) -> web.Response:
        if (denied := self._rm_auth(request)) is not None:
            return denied
        menu_id, missing = self._rm_known(request)
        if missing:
            return missing
        data = await request.read()
        kind = request.headers.get("Content-Type", "")
        if kind not in ("image/png", "image/jpeg"):
            return self._rm_answer(request, 415, {"message": "Unsupported Media Type"})
        if len(data) > MAX_IMAGE_BYTES:
            return self._rm_answer(request, 413, {"message": "Request Entity Too Large"})
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(io.BytesIO(data)) as image:
                fmt, dims = image.format, image.size
        except UnidentifiedImageError:
            return self._rm_answer(request, 400, {"message": "Invalid image"})
        size = self.rich_menus[menu_id]["size"]
        if (fmt or "").lower() != kind.split("/")[1] or dims != (size["width"], size["height"]):
            return self._rm_answer(request, 400, {
                "message": "An image size must be the same as the richmenu size"})
        with self.lock:
            if menu_id in self.rich_menu_images:
                return self._rm_answer(request, 400, {
                    "message": "An image has already been uploaded to the richmenu"})
            self.rich_menu_images[menu_id] = data
        return self._rm_answer(request, 200, {})

    async def _rm_download(self, request: web.Request) -> web.StreamResponse:
        if (denied := self._rm_auth(request)) is not None:
            return denied
        menu_id, missing = self._rm_known(request)
        with self.lock:
            data = self.rich_menu_images.get(menu_id)
        if missing or data is None:
            return missing or self._rm_answer(request, 404, {"message": "Not found"})
        with self.lock:
            self.rich_menu_calls.append((request.method, request.path, 200))
        return web.Response(body=data, content_type="image/png")

    def _rm_ready(self, request: web.Request) -> tuple[str, web.Response | None]:
        menu_id, missing = self._rm_known(request)
        if missing:
            return menu_id, missing
        with self.lock:
            has_image = menu_id in self.rich_menu_images
        return menu_id, None if has_image else self._rm_answer(request, 400,
                                                               {"message": NO_IMAGE})

    async def _rm_set_default(self, request: web.Request) -> web.Response:
        if (denied := self._rm_auth(request)) is not None:
            return denied
        menu_id, refused = self._rm_ready(request)
        if refused:
            return refused
        with self.lock:
            self.default_rich_menu = menu_id
        return self._rm_answer(request, 200, {})

    async def _rm_get_default(self, request: web.Request) -> web.Response:
        if (denied := self._rm_auth(request)) is not None:
            return denied
        if self.default_rich_menu is None:
            return self._rm_answer(request, 404, {"message": "no default richmenu"})
        return self._rm_answer(request, 200, {"richMenuId": self.default_rich_menu})

    async def _rm_cancel_default(self, request: web.Request) -> web.Response:
        if (denied := self._rm_auth(request)) is not None:
            return denied
        with self.lock:
            self.default_rich_menu = None
        return self._rm_answer(request, 200, {})

    async def _rm_link(self, request: web.Request) -> web.Response:
        from bot.fakes.line import USER_ID_RE

        if (denied := self._rm_auth(request)) is not None:
            return denied
        user = request.match_info["user"]
        if not USER_ID_RE.match(user):
            return self._rm_answer(request, 400, {"message": "The value for the 'userId' "
                                                  "parameter is invalid"})
        menu_id, refused = self._rm_ready(request)
        if refused:
            return refused
        with self.lock:
            self.user_rich_menus[user] = menu_id
        return self._rm_answer(request, 200, {})

    async def _rm_user(self, request: web.Request) -> web.Response:
        if (denied := self._rm_auth(request)) is not None:
            return denied
        menu_id = self.user_rich_menus.get(request.match_info["user"])
        if menu_id is None:
            return self._rm_answer(request, 404, {"message": "the user has no richmenu"})
        return self._rm_answer(request, 200, {"richMenuId": menu_id})

    async def _rm_unlink(self, request: web.Request) -> web.Response:
        if (denied := self._rm_auth(request)) is not None:
            return denied
        with self.lock:
            self.user_rich_menus.pop(request.match_info["user"], None)
        return self._rm_answer(request, 200, {})
