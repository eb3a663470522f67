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
 * how each kind of failure surfaces. Run with the JNI glue on the path:
 *   java -cp bindings/java/build/classes:bindings/java/build/examples \
 *        -Dums.jni.library=bindings/java/build/libumsjni.so Quickstart
 */
public class Quickstart {
    public static void main(String[] args) throws Exception {
        System.out.println("libums " + Ums.version());
        // {"environment":"sandbox"} starts the simulator inside libums, with its demo app.
        String config = "{\"environment\":\"sandbox\",\"mid\":\"898340149000005\",\"tid\":\"00000001\"}";
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
