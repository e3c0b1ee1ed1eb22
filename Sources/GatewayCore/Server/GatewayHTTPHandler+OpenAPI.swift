import NIOCore
import NIOHTTP1

extension GatewayHTTPHandler {
    // MARK: OpenAPI document and docs page

    /// Serves a page made when the configuration was compiled: the OpenAPI
    /// document for the request's host, or the Swagger UI page. Nothing is built
    /// per request; a client holding the current version gets 304.
    func serve(_ gatewayPage: GatewayPage, to request: Request, context: ChannelHandlerContext) {
        let page = gatewayPage.page(forHost: request.head.headers.first(name: "host").map { Substring($0) })
        let current = page.isCurrent(ifNoneMatch: request.head.headers[canonicalForm: "if-none-match"])
        self.write(
            status: current ? .notModified : .ok, contentType: page.contentType, body: page.body,
            extraHeaders: [("etag", page.etag), ("cache-control", "no-cache")], request: request, requestID: nil,
            context: context)
    }
}
