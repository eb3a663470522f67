import com.chinaums.ums.GatewayRejectedException;
import com.chinaums.ums.OutcomeUnknownException;
import com.chinaums.ums.TransportException;
import com.chinaums.ums.Ums;
import com.chinaums.ums.UmsClient;
import com.chinaums.ums.ValidationException;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Quick start: update the simulator's seed QR code with a new bill, then show
 * how each kind of failure surfaces. Start the ums-sandbox simulator, then
 * run this with its URL and the JNI glue on the path:
 *   target/release/ums-sandbox --port 0      # prints "ums-sandbox listening on http://127.0.0.1:PORT"
 *   java -cp bindings/java/build/classes:bindings/java/build/examples \
 *        -Dums.jni.library=bindings/java/build/libumsjni.so Quickstart http://127.0.0.1:PORT
 */
public class Quickstart {
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: Quickstart SIMULATOR_URL (the URL ums-sandbox prints)");
            System.exit(2);
        }
        System.out.println("libums " + Ums.version());
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("environment", args[0]);                          // "production", "test" or a base URL
        config.put("appId", "10037e6f66f2d0f901672aa27d690006");     // the simulator's demo app (public)
        config.put("appKey", "47ace12ae3b348fe93ab46cee97c6fde");
        config.put("mid", "898340149000005");
        config.put("tid", "00000001");
        config.put("msgSrcId", "3194");                              // for newId()
        try (UmsClient client = new UmsClient(config)) {
            Map<String, Object> egg = new LinkedHashMap<>();
            egg.put("goodsId", "001");
            egg.put("goodsName", "鸡蛋");
            egg.put("quantity", 2);
            egg.put("price", 13);
            List<Object> goods = new ArrayList<>();
            goods.add(egg);

            Map<String, Object> request = new LinkedHashMap<>();
            request.put("qrCodeId", "31942002267733902130410550");
            request.put("billNo", client.newId()); // a fresh bill number every time
            request.put("billDate", LocalDate.now(ZoneOffset.ofHours(8)).toString());
            request.put("totalAmount", 26); // fen
            request.put("billDesc", "两个鸡蛋");
            request.put("goods", goods);

            try {
                Map<String, Object> answer = client.updateQrcode(request);
                System.out.println("update-qrcode: " + answer.get("errCode") + " " + answer.get("billQRCode"));
            } catch (ValidationException e) {
                System.out.println("fix field " + e.getField() + ": " + e.getMessage()); // nothing was sent
            } catch (GatewayRejectedException e) {
                System.out.println("refused: " + e.getErrCode() + " " + e.getErrMsg());
            } catch (OutcomeUnknownException e) {
                System.out.println("unknown outcome: query the bill, never resend"); // money may have moved
            } catch (TransportException e) {
                System.out.println("no connection (nothing sent): " + e.getMessage());
            }

            // The same bill number twice is refused by the gateway.
            try {
                client.updateQrcode(request);
            } catch (GatewayRejectedException e) {
                System.out.println("same billNo again: " + e.getErrCode());
            }
        }
    }
}
